//! liveproof: archive live-commerce recordings as searchable, verifiable evidence.
//!
//! Data flows one way: ingest → media → transcription (with the coverage audit) → analysis
//! (claims, disclosure) → seal → store → index, with the CLI and the HTTP server on top; the
//! bundle verifier is its own crate (`liveproof-verify`). See ARCHITECTURE.md for the module
//! map and each module's invariant.

pub mod access;
pub mod broadcasts;
pub mod catalog;
pub mod claims;
pub mod claims_model;
pub mod comments;
pub mod config;
pub mod custody;
pub mod derived;
pub mod desk;
pub mod disclosure;
pub mod evidence;
pub mod fault;
pub mod fsutil;
pub mod hashing;
pub mod ingest;
pub mod layout;
pub mod limits;
pub mod listing;
pub mod loops;
pub mod manifest;
pub mod media;
pub mod models;
pub mod platform;
pub mod recorders;
pub mod reproduce;
pub mod retention;
pub mod seal;
pub mod search;
pub mod server;
pub mod shared;
pub mod shills;
pub mod sidecar;
pub mod store;
pub mod text;
pub mod transcript;
pub mod transcription;
pub mod watch;
pub mod witness;

/// This build's version, recorded in every manifest.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
