//! Errors of the HTTP API: RFC 7807 `application/problem+json` with an `error` member holding
//! the machine code. Internal failures are logged and answered without their details.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::error::DenyCode;
use crate::Error;

/// An error answer.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Machine code (`server_not_found`, `invalid_token`, …).
    pub code: String,
    /// Human detail.
    pub detail: String,
    /// Seconds to wait (429).
    pub retry_after: Option<u64>,
    /// What to do about it (the CLI's hint, so remote and local mode say the same).
    pub hint: Option<String>,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    error: &'a str,
    detail: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    retry_after: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
}

impl ApiError {
    /// An error with a status, a code and a detail.
    pub fn new(status: StatusCode, code: impl Into<String>, detail: impl Into<String>) -> Self {
        ApiError { status, code: code.into(), detail: detail.into(), retry_after: None, hint: None }
    }

    /// 400 with a code.
    pub fn bad_request(code: &str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 401: missing or unknown credentials.
    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", detail)
    }

    /// 403: known credentials without the right.
    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", detail)
    }

    /// 404 for a route or record.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }
}

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        let hint = e.hint();
        let mut api = match e {
            Error::Denied { code, message, retry_after } => {
                let status = match code {
                    DenyCode::ServerNotFound => StatusCode::NOT_FOUND,
                    DenyCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
                    _ => StatusCode::FORBIDDEN,
                };
                ApiError { status, code: code.as_str().into(), detail: message, retry_after, hint: None }
            }
            Error::NotFound { .. } => ApiError::new(StatusCode::NOT_FOUND, "not_found", e.to_string()),
            Error::Conflict { .. } => ApiError::new(StatusCode::CONFLICT, "conflict", e.to_string()),
            Error::Invalid { .. } | Error::Config(_) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_request", e.to_string()),
            Error::Refused { .. } | Error::Rejected { .. } => ApiError::new(StatusCode::CONFLICT, "refused", e.to_string()),
            Error::Verify(v) => ApiError::new(StatusCode::UNAUTHORIZED, v.code.as_str(), v.detail),
            other => {
                // Storage, crypto, KEK: log the cause, answer without it.
                tracing::error!(error = %other, "request failed");
                return ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the authority cannot answer right now");
            }
        };
        api.hint = hint;
        api
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let title = self.status.canonical_reason().unwrap_or("error");
        let body = Problem {
            kind: "about:blank",
            title,
            status: self.status.as_u16(),
            error: &self.code,
            detail: &self.detail,
            retry_after: self.retry_after,
            hint: self.hint.as_deref(),
        };
        let mut resp = (self.status, axum::Json(body)).into_response();
        let headers = resp.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        if let Some(secs) = self.retry_after {
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                headers.insert(header::RETRY_AFTER, v);
            }
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        resp
    }
}

/// Result of a handler.
pub type ApiResult<T> = Result<T, ApiError>;
