//! Prints the speech regions the voice detector finds in a 16 kHz mono WAV (debugging aid).
fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: vad_regions FILE.wav");
    let bytes = std::fs::read(path).unwrap();
    let at = bytes.windows(4).position(|w| w == b"data").unwrap() + 8;
    let samples: Vec<f32> = bytes[at..]
        .chunks_exact(2)
        .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0)
        .collect();
    let mut p = liveproof::transcription::voice::Packer::default();
    for block in samples.chunks(1 << 16) {
        p.push(block); // as ingest does: the packer keeps only what it still needs
    }
    p.finish();
    while let Some(c) = p.next_chunk() {
        for piece in &c.pieces {
            println!(
                "{:.2}s..{:.2}s",
                piece.src as f64 / 16000.0,
                (piece.src + piece.len as u64) as f64 / 16000.0
            );
        }
        println!("-- chunk");
    }
    println!("total {:.2}s", samples.len() as f64 / 16000.0);
}
