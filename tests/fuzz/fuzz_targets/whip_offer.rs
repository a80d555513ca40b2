//! libFuzzer target `whip_offer`: see `cloudmixer::fuzzing::whip_offer` and docs/FUZZING.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cloudmixer::fuzzing::whip_offer(data);
});
