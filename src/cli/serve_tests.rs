//! The daemon's router answers health checks and reflection (what grpcurl relies on).

use std::time::Duration;

use tonic::transport::Endpoint;
use tonic_health::pb::{health_client::HealthClient, HealthCheckRequest};
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
use tonic_reflection::pb::v1::ServerReflectionRequest;

use super::*;

#[tokio::test]
async fn serves_health_and_reflection() {
    let dir = tempfile::tempdir().unwrap();
    let service = CloudMixerService::new(ServiceConfig {
        output: OutputDefaults {
            recordings_root: crate::model::RecordingsRoot::open(dir.path()).unwrap(),
            x264_preset: "veryfast".into(),
            encoder_threads: 0,
            max_picture_pixels: crate::model::DEFAULT_MAX_PICTURE_PIXELS,
            single_path_template: crate::model::record::DEFAULT_SINGLE_PATH_TEMPLATE.to_owned(),
        },
        ports: PortPool::default_loopback(),
        bus: EventBus::new(),
        shutdown_timeout: Duration::from_secs(1),
        whip: None,
        rtc: Default::default(),
        policy: Default::default(),
        retention: Default::default(),
        limits: Default::default(),
        watch_stall: crate::api::watch::DEFAULT_WATCH_STALL,
        journal: None,
        requests: Default::default(),
    });
    let (router, _health) = services(service, None, Default::default(), None)
        .await
        .unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let incoming = TcpIncoming::from_listener(listener, true, None).unwrap();
    tokio::spawn(router.serve_with_incoming(incoming));
    let ch = Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();

    let status = HealthClient::new(ch.clone())
        .check(HealthCheckRequest {
            service: "cloudmixer.v1.CloudMixer".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .status;
    assert_eq!(
        status,
        tonic_health::pb::health_check_response::ServingStatus::Serving as i32
    );

    let req = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream = ServerReflectionClient::new(ch)
        .server_reflection_info(tokio_stream::iter(vec![req]))
        .await
        .unwrap()
        .into_inner();
    let resp = stream.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = resp.message_response else {
        panic!("unexpected reflection response {resp:?}");
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    assert!(
        names.iter().any(|n| n == "cloudmixer.v1.CloudMixer"),
        "{names:?}"
    );
    assert!(
        names.iter().any(|n| n == "grpc.health.v1.Health"),
        "{names:?}"
    );
}

#[test]
fn the_single_path_template_is_checked_at_startup() {
    let t = crate::model::record::DEFAULT_SINGLE_PATH_TEMPLATE;
    assert_eq!(super::single_path_template(t).unwrap(), t);
    let e = super::single_path_template("/abs/{camid}-{span}").unwrap_err();
    assert_eq!(e.code(), tonic::Code::InvalidArgument);
    assert!(
        e.message().starts_with("--single-path-template: ") && e.message().contains("relative"),
        "{}",
        e.message()
    );
}
