//! The search schema, in one place: field names and how each is indexed.

use tantivy::schema::{
    DateOptions, DateTimePrecision, Field, IndexRecordOption, NumericOptions, Schema,
    TextFieldIndexing, TextOptions, FAST, STORED, STRING,
};

use super::analyzer;

/// Handles to every field of the index.
#[derive(Clone, Copy)]
pub struct Fields {
    /// `segment` or `session`.
    pub kind: Field,
    /// Session id.
    pub session: Field,
    /// Platform from the sidecar.
    pub platform: Field,
    /// Room from the sidecar.
    pub room: Field,
    /// Host from the sidecar.
    pub host: Field,
    /// Language code of the segment (or session).
    pub language: Field,
    /// Segment index within the session.
    pub index: Field,
    /// Start in ms from the start of the recording.
    pub start_ms: Field,
    /// End in ms from the start of the recording.
    pub end_ms: Field,
    /// Session start (sidecar `started_at`, else ingest time).
    pub started_at: Field,
    /// Absolute time of the segment start, ms since the epoch (sort by time).
    pub at_ms: Field,
    /// Normalised text, analysed for search.
    pub text: Field,
    /// Raw model output (stored only).
    pub raw_text: Field,
    /// Tags (e.g. digital-host verdicts), as they appear.
    pub tags: Field,
    /// Claim flags (categories), as they appear.
    pub flags: Field,
}

/// Builds the schema and its field handles.
pub fn build() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text_opts = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(analyzer::NAME)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let num = NumericOptions::default()
        .set_indexed()
        .set_stored()
        .set_fast();
    let fields = Fields {
        kind: b.add_text_field("kind", STRING | STORED),
        session: b.add_text_field("session", STRING | STORED | FAST),
        platform: b.add_text_field("platform", STRING | STORED),
        room: b.add_text_field("room", STRING | STORED),
        host: b.add_text_field("host", STRING | STORED),
        language: b.add_text_field("language", STRING | STORED),
        index: b.add_u64_field("index", num.clone()),
        start_ms: b.add_u64_field("start_ms", num.clone()),
        end_ms: b.add_u64_field("end_ms", num.clone()),
        started_at: b.add_date_field(
            "started_at",
            DateOptions::default()
                .set_indexed()
                .set_stored()
                .set_fast()
                .set_precision(DateTimePrecision::Milliseconds),
        ),
        at_ms: b.add_u64_field("at_ms", num),
        text: b.add_text_field("text", text_opts),
        raw_text: b.add_text_field("raw_text", STORED),
        tags: b.add_text_field("tags", STRING | STORED),
        flags: b.add_text_field("flags", STRING | STORED),
    };
    (b.build(), fields)
}
