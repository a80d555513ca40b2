//! Reader of rtptools' rtpdump capture files: the packet captures under tests/data/
//! (made by scripts/record-rtp-capture.sh) that unit tests and fuzz seeds replay.

/// The records of an rtptools rtpdump file (`#!rtpplay1.0 addr/port\n`, a 16-byte
/// RD_hdr_t, then per packet `{u16 length, u16 plen, u32 offset_ms}` big-endian and the
/// packet) as (arrival offset in ms, datagram). Lenient: stops at the first malformed
/// record; an input that is not an rtpdump file gives no records.
pub fn records(bytes: &[u8]) -> Vec<(u32, &[u8])> {
    let mut records = Vec::new();
    if !bytes.starts_with(b"#!rtpplay1.0 ") {
        return records;
    }
    let Some(line_end) = bytes.iter().position(|&b| b == b'\n') else {
        return records;
    };
    let mut i = line_end + 1 + 16;
    while let Some(h) = bytes.get(i..i + 8) {
        let length = usize::from(u16::from_be_bytes([h[0], h[1]]));
        let plen = usize::from(u16::from_be_bytes([h[2], h[3]]));
        let offset_ms = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
        if length < 8 {
            break;
        }
        let Some(packet) = bytes.get(i + 8..i + 8 + plen.min(length - 8)) else {
            break;
        };
        if !packet.is_empty() {
            records.push((offset_ms, packet));
        }
        i += length;
    }
    records
}
