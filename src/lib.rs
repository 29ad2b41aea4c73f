//! mcpca — a Connect Authority for the Model Context Protocol.
//!
//! The authority keeps a registry of MCP servers, decides who may connect to which, and issues
//! short-lived Ed25519-signed Connect Descriptors that servers verify locally
//! ([`descriptor::verify`]). See `DESIGN.md` for the contract.
#![forbid(unsafe_code)]

pub mod audit;
pub mod authority;
pub mod check;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod config;
pub mod descriptor;
pub mod docs;
pub mod duration;
pub mod error;
pub mod feed;
pub mod fsutil;
pub mod guard;
pub mod keys;
pub mod model;
pub mod output;
pub mod registry;
pub mod secrets;
pub mod server;
pub mod state;
pub mod store;
pub mod verify;

pub use descriptor::verify;
pub use error::{Error, Result};
