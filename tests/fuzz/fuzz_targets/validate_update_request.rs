//! libFuzzer target `validate_update_request`: see `cloudmixer::fuzzing::validate_update_request` and docs/FUZZING.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cloudmixer::fuzzing::validate_update_request(data);
});
