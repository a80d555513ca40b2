//! libFuzzer target `rtcp_packet`: see `cloudmixer::fuzzing::rtcp_packet` and docs/FUZZING.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cloudmixer::fuzzing::rtcp_packet(data);
});
