//! libFuzzer target `config_file`: see `cloudmixer::fuzzing::config_file` and docs/FUZZING.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cloudmixer::fuzzing::config_file(data);
});
