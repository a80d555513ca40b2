//! libFuzzer target `sdp_negotiate`: see `cloudmixer::fuzzing::sdp_negotiate` and docs/FUZZING.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cloudmixer::fuzzing::sdp_negotiate(data);
});
