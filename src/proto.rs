//! Generated code for the public contract `proto/cloudmixer/v1/cloudmixer.proto`
//! (package `cloudmixer.v1`): message types, the `CloudMixer` server trait and client.
#![allow(clippy::all, missing_docs)]

tonic::include_proto!("cloudmixer.v1");

/// Encoded `FileDescriptorSet` of the contract, served by gRPC server reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("cloudmixer_descriptor");
