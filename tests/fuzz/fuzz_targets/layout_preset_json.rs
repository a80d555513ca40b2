//! libFuzzer target `layout_preset_json`: see `cloudmixer::fuzzing::layout_preset_json` and docs/FUZZING.md.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    cloudmixer::fuzzing::layout_preset_json(data);
});
