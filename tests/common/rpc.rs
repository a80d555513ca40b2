//! The gRPC calls end-to-end tests make again and again; each fails the test, naming the
//! call, if the daemon answers with an error.

use cloudmixer::proto::cloud_mixer_client::CloudMixerClient;
use cloudmixer::proto::{
    CreateCloudMixerRequest, CreateCloudMixerResponse, DestroyCloudMixerRequest,
    GetCloudMixerRequest, MixerInfo, SourceStats,
};
use tonic::transport::Channel;

/// A client of a test daemon ([`super::daemon::Daemon::client`]).
pub type Client = CloudMixerClient<Channel>;

/// CreateCloudMixer.
pub async fn create(c: &mut Client, req: CreateCloudMixerRequest) -> CreateCloudMixerResponse {
    c.create_cloud_mixer(req)
        .await
        .expect("Create")
        .into_inner()
}

/// GetCloudMixer: the mixer's per-source statistics, in source order.
pub async fn sources(c: &mut Client, mixer_id: &str) -> Vec<SourceStats> {
    c.get_cloud_mixer(GetCloudMixerRequest {
        mixer_id: mixer_id.into(),
    })
    .await
    .expect("Get")
    .into_inner()
    .sources
}

/// DestroyCloudMixer (operator "e2e"): the final mixer info.
pub async fn destroy(c: &mut Client, mixer_id: &str) -> MixerInfo {
    c.destroy_cloud_mixer(DestroyCloudMixerRequest {
        mixer_id: mixer_id.into(),
        oper_user_id: "e2e".into(),
    })
    .await
    .expect("Destroy")
    .into_inner()
    .info
    .expect("Destroy returns the mixer's info")
}
