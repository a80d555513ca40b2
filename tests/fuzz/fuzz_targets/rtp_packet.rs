//! libFuzzer target `rtp_packet`: see `cloudmixer::fuzzing::rtp_packet` and docs/FUZZING.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cloudmixer::fuzzing::rtp_packet(data);
});
