//! libFuzzer target `jitter_and_assemble`: see `cloudmixer::fuzzing::jitter_and_assemble` and docs/FUZZING.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cloudmixer::fuzzing::jitter_and_assemble(data);
});
