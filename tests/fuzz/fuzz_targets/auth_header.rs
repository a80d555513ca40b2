//! libFuzzer target `auth_header`: see `cloudmixer::fuzzing::auth_header` and docs/FUZZING.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cloudmixer::fuzzing::auth_header(data);
});
