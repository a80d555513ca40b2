//! Compiles proto/cloudmixer/v1/cloudmixer.proto into the gRPC server and client, and
//! writes the file descriptor set that the reflection service serves.
use std::{env, path::PathBuf};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(env::var("OUT_DIR")?);
    tonic_build::configure()
        .file_descriptor_set_path(out.join("cloudmixer_descriptor.bin"))
        .compile_protos(&["proto/cloudmixer/v1/cloudmixer.proto"], &["proto"])?;
    println!("cargo:rerun-if-changed=proto");
    Ok(())
}
