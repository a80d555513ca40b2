//! The gRPC service: request validation, proto <-> engine types.
