//! axum extractors whose rejections are [`ApiError`]s, so a bad path, query or body is a
//! JSON 4xx with a stable code instead of axum's plain-text default.

use axum::body::Bytes;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::{codes, ApiError};

/// Path parameters.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Path::<T>::from_request_parts(parts, state)
            .await
            .map(|Path(v)| ApiPath(v))
            .map_err(|e| ApiError::code(codes::BAD_PATH, e.body_text()))
    }
}

/// Query string.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e| ApiError::code(codes::BAD_QUERY, e.body_text()))
    }
}

/// JSON object body (size-limited by the router's `DefaultBodyLimit`). Only an object is
/// accepted: serde's derived structs would also read a positional array (`["<hex>"]`), which
/// is not the documented shape.
pub struct ApiJson<T>(pub T);

/// The one JSON shape the API's request bodies have.
pub(crate) fn from_object<T: DeserializeOwned>(v: serde_json::Value) -> Result<T, ApiError> {
    if !v.is_object() {
        return Err(ApiError::code(
            codes::BAD_BODY,
            "the body must be a JSON object",
        ));
    }
    serde_json::from_value(v).map_err(|e| ApiError::code(codes::BAD_BODY, e.to_string()))
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let v = axum::Json::<serde_json::Value>::from_request(req, state)
            .await
            .map(|axum::Json(v)| v)
            .map_err(|e| {
                let code = match &e {
                    JsonRejection::JsonSyntaxError(_) => codes::BAD_JSON,
                    JsonRejection::JsonDataError(_) => codes::BAD_BODY,
                    JsonRejection::MissingJsonContentType(_) => codes::UNSUPPORTED_MEDIA_TYPE,
                    _ if e.status() == StatusCode::PAYLOAD_TOO_LARGE => codes::BODY_TOO_LARGE,
                    _ => codes::BAD_BODY,
                };
                ApiError::code(code, e.body_text())
            })?;
        from_object(v).map(ApiJson)
    }
}

/// Raw body bytes (size-limited like [`ApiJson`]).
pub struct ApiBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for ApiBytes {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        Bytes::from_request(req, state)
            .await
            .map(ApiBytes)
            .map_err(|e| {
                let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    codes::BODY_TOO_LARGE
                } else {
                    codes::BAD_BODY
                };
                ApiError::code(code, e.body_text())
            })
    }
}

/// The client's IP address (unspecified when the server runs without connect info, as in
/// router-only tests).
pub struct ConnectInfoIp(pub std::net::IpAddr);

impl<S: Send + Sync> FromRequestParts<S> for ConnectInfoIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        Ok(ConnectInfoIp(client_ip(&parts.extensions)))
    }
}

/// The peer address the server recorded for this request.
pub(crate) fn client_ip(ext: &axum::http::Extensions) -> std::net::IpAddr {
    ext.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), |c| {
            c.0.ip()
        })
}
