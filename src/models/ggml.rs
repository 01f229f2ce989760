//! Converts a CTranslate2 Whisper model into whisper.cpp's ggml file format: weight matrices as
//! f16, or quantised to q8_0 (blocks of 32 int8 values with an f16 scale, as ggml's reference
//! quantiser writes them); convolution kernels stay f16 and vectors and positions f32, as
//! whisper.cpp expects for every weight type.
//!
//! Layout written: magic, 11 int32 hyper-parameters, the mel filter bank, the byte-level BPE
//! vocabulary, then every tensor under the names of OpenAI's PyTorch checkpoint, which is
//! what whisper.cpp looks up. Shapes are written innermost dimension first.

use std::io::Write;

use super::ct2::{Ct2Model, DType, Variable};
use thiserror::Error;

const GGML_MAGIC: u32 = 0x6767_6d6c;
const N_FFT_BINS: usize = 201;
const SAMPLE_RATE: f64 = 16_000.0;

/// Why a model could not be converted.
#[derive(Debug, Error)]
pub enum ConvertError {
    /// A tensor whisper.cpp needs is missing or has an unexpected shape.
    #[error("the CTranslate2 model is not a Whisper model this converter knows: {0}")]
    Shape(String),
    /// The vocabulary file is unusable.
    #[error("vocabulary.txt is not usable: {0}")]
    Vocabulary(String),
    /// Reading a tensor failed.
    #[error(transparent)]
    Ct2(#[from] super::ct2::Ct2Error),
    /// Writing the output failed.
    #[error("cannot write the converted model: {0}")]
    Io(#[from] std::io::Error),
}

/// Whisper hyper-parameters as whisper.cpp's header stores them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HParams {
    /// Vocabulary size of the embedding matrix.
    pub n_vocab: usize,
    /// Encoder positions (1500).
    pub n_audio_ctx: usize,
    /// Encoder width.
    pub n_audio_state: usize,
    /// Encoder attention heads.
    pub n_audio_head: usize,
    /// Encoder layers.
    pub n_audio_layer: usize,
    /// Decoder positions (448).
    pub n_text_ctx: usize,
    /// Decoder width.
    pub n_text_state: usize,
    /// Decoder attention heads.
    pub n_text_head: usize,
    /// Decoder layers.
    pub n_text_layer: usize,
    /// Mel bins (80, or 128 for large-v3).
    pub n_mels: usize,
}

fn var<'a>(m: &'a Ct2Model, name: &str) -> Result<&'a Variable, ConvertError> {
    m.variables
        .get(name)
        .ok_or_else(|| ConvertError::Shape(format!("missing tensor `{name}`")))
}

fn dims2(v: &Variable, name: &str) -> Result<(usize, usize), ConvertError> {
    match v.dims[..] {
        [a, b] => Ok((a, b)),
        _ => Err(ConvertError::Shape(format!(
            "`{name}` has shape {:?}, expected 2 dimensions",
            v.dims
        ))),
    }
}

fn count_layers(m: &Ct2Model, prefix: &str) -> usize {
    // `layer_norm` also starts with `layer_`: only `layer_<digits>/` counts.
    m.variables
        .keys()
        .filter_map(|k| k.strip_prefix(prefix))
        .filter_map(|rest| rest.strip_prefix("layer_"))
        .filter_map(|rest| rest.split_once('/'))
        .filter_map(|(n, _)| n.parse::<usize>().ok())
        .map(|n| n + 1)
        .max()
        .unwrap_or(0)
}

fn heads(m: &Ct2Model, name: &str, width: usize) -> usize {
    m.variables
        .get(name)
        .and_then(Variable::as_int)
        .filter(|&h| h > 0)
        .map(|h| h as usize)
        // Every released Whisper model uses 64-wide heads.
        .unwrap_or(width / 64)
}

/// Reads the hyper-parameters from the tensor shapes.
pub fn hparams(m: &Ct2Model) -> Result<HParams, ConvertError> {
    let (n_vocab, n_text_state) = dims2(
        var(m, "decoder/embeddings/weight")?,
        "decoder/embeddings/weight",
    )?;
    let (n_text_ctx, _) = dims2(
        var(m, "decoder/position_encodings/encodings")?,
        "decoder/position_encodings/encodings",
    )?;
    let (n_audio_ctx, n_audio_state) = dims2(
        var(m, "encoder/position_encodings/encodings")?,
        "encoder/position_encodings/encodings",
    )?;
    let conv1 = var(m, "encoder/conv1/weight")?;
    let n_mels = match conv1.dims[..] {
        [_, mels, 3] => mels,
        _ => {
            return Err(ConvertError::Shape(format!(
                "encoder/conv1/weight has shape {:?}",
                conv1.dims
            )))
        }
    };
    let hp = HParams {
        n_vocab,
        n_audio_ctx,
        n_audio_state,
        n_audio_head: heads(m, "encoder/num_heads", n_audio_state),
        n_audio_layer: count_layers(m, "encoder/"),
        n_text_ctx,
        n_text_state,
        n_text_head: heads(m, "decoder/num_heads", n_text_state),
        n_text_layer: count_layers(m, "decoder/"),
        n_mels,
    };
    if hp.n_audio_layer == 0 || hp.n_text_layer == 0 {
        return Err(ConvertError::Shape("no encoder or decoder layers".into()));
    }
    Ok(hp)
}

/// Slaney-scale mel filter bank as librosa (and so openai-whisper) computes it:
/// `n_mels` rows of 201 FFT bins for a 400-point FFT at 16 kHz.
pub fn mel_filters(n_mels: usize) -> Vec<f32> {
    fn hz_to_mel(f: f64) -> f64 {
        let f_sp = 200.0 / 3.0;
        let min_log_hz = 1000.0;
        let min_log_mel = min_log_hz / f_sp;
        let logstep = 6.4f64.ln() / 27.0;
        if f >= min_log_hz {
            min_log_mel + (f / min_log_hz).ln() / logstep
        } else {
            f / f_sp
        }
    }
    fn mel_to_hz(m: f64) -> f64 {
        let f_sp = 200.0 / 3.0;
        let min_log_hz = 1000.0;
        let min_log_mel = min_log_hz / f_sp;
        let logstep = 6.4f64.ln() / 27.0;
        if m >= min_log_mel {
            min_log_hz * (logstep * (m - min_log_mel)).exp()
        } else {
            f_sp * m
        }
    }
    let fmax = SAMPLE_RATE / 2.0;
    let fft_freqs: Vec<f64> = (0..N_FFT_BINS)
        .map(|i| i as f64 * fmax / (N_FFT_BINS - 1) as f64)
        .collect();
    let (mel_lo, mel_hi) = (hz_to_mel(0.0), hz_to_mel(fmax));
    let mel_f: Vec<f64> = (0..n_mels + 2)
        .map(|i| mel_to_hz(mel_lo + (mel_hi - mel_lo) * i as f64 / (n_mels + 1) as f64))
        .collect();
    let mut out = Vec::with_capacity(n_mels * N_FFT_BINS);
    for i in 0..n_mels {
        let enorm = 2.0 / (mel_f[i + 2] - mel_f[i]);
        for &f in &fft_freqs {
            let lower = (f - mel_f[i]) / (mel_f[i + 1] - mel_f[i]);
            let upper = (mel_f[i + 2] - f) / (mel_f[i + 2] - mel_f[i + 1]);
            out.push((lower.min(upper).max(0.0) * enorm) as f32);
        }
    }
    out
}

/// GPT-2's table from printable characters back to the bytes they stand for.
fn unicode_to_byte() -> std::collections::HashMap<char, u8> {
    let mut bs: Vec<u32> = (b'!' as u32..=b'~' as u32)
        .chain(0xA1..=0xAC)
        .chain(0xAE..=0xFF)
        .collect();
    let mut cs = bs.clone();
    let mut n = 0;
    for b in 0..256u32 {
        if !bs.contains(&b) {
            bs.push(b);
            cs.push(256 + n);
            n += 1;
        }
    }
    bs.into_iter()
        .zip(cs)
        .filter_map(|(b, c)| char::from_u32(c).map(|c| (c, b as u8)))
        .collect()
}

/// The byte strings of the BPE tokens below `<|endoftext|>`, in id order.
pub fn vocabulary(text: &str) -> Result<Vec<Vec<u8>>, ConvertError> {
    let table = unicode_to_byte();
    let mut tokens = Vec::new();
    // Lines are tokens verbatim: trimming would lose tokens made of spaces.
    for (i, line) in text.split('\n').enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line == "<|endoftext|>" {
            if !tokens.iter().any(|t: &Vec<u8>| t == b" ") {
                return Err(ConvertError::Vocabulary(
                    "the \" \" token is missing".into(),
                ));
            }
            return Ok(tokens);
        }
        let bytes = line
            .chars()
            .map(|c| table.get(&c).copied())
            .collect::<Option<Vec<u8>>>()
            .ok_or_else(|| {
                ConvertError::Vocabulary(format!(
                    "line {} ({line:?}) is not a byte-level BPE token",
                    i + 1
                ))
            })?;
        tokens.push(bytes);
    }
    Err(ConvertError::Vocabulary("no <|endoftext|> token".into()))
}

/// Whisper's sinusoidal encoder positions, `[length, channels]`.
fn sinusoids(length: usize, channels: usize) -> Vec<f32> {
    let half = channels / 2;
    let inc = 10_000f64.ln() / (half as f64 - 1.0);
    let mut out = Vec::with_capacity(length * channels);
    for t in 0..length {
        let row: Vec<f64> = (0..half)
            .map(|i| t as f64 * (-inc * i as f64).exp())
            .collect();
        out.extend(row.iter().map(|x| x.sin() as f32));
        out.extend(row.iter().map(|x| x.cos() as f32));
    }
    out
}

enum Data {
    F32(Vec<f32>),
    F16(Vec<u8>),
    Q8(Vec<u8>),
}

/// How weight matrices are stored in the converted file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quant {
    /// IEEE half precision (the weights as shipped).
    F16,
    /// ggml q8_0: 32 int8 values per block with one f16 scale (8.5 bits per weight).
    Q8_0,
    /// The encoder's matrices in f16 and the decoder's (self and cross attention, MLP, token
    /// embedding) in q8_0: the decoder reads every weight once per token, the encoder computes.
    /// Needs the vendored whisper.cpp's ftype 100 + t extension (vendor/README.md).
    DecoderQ8_0,
}

impl Quant {
    /// The header's ftype field (quantised types carry GGML_QNT_VERSION 2 × 1000).
    fn header_ftype(self) -> usize {
        match self {
            Quant::F16 => 1,
            Quant::Q8_0 => 2 * 1000 + 7,
            Quant::DecoderQ8_0 => 2 * 1000 + 100 + 7,
        }
    }

    /// Whether the matrix `name` is stored as q8_0.
    fn quantises(self, name: &str) -> bool {
        match self {
            Quant::F16 => false,
            Quant::Q8_0 => true,
            Quant::DecoderQ8_0 => name.starts_with("decoder."),
        }
    }
}

/// Values per q8_0 block.
const QK8_0: usize = 32;

/// ggml's reference q8_0 quantiser: per block, scale = max |x| / 127, values rounded.
pub fn quantize_q8_0(values: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() / QK8_0 * (2 + QK8_0));
    for block in values.chunks(QK8_0) {
        let amax = block.iter().fold(0f32, |m, x| m.max(x.abs()));
        let d = amax / 127.0;
        let id = if d != 0.0 { 1.0 / d } else { 0.0 };
        out.extend(half::f16::from_f32(d).to_le_bytes());
        out.extend(block.iter().map(|x| (x * id).round() as i8 as u8));
    }
    out
}

struct Tensor {
    name: String,
    /// Outermost first.
    dims: Vec<usize>,
    data: Data,
}

fn as_f16_bytes(v: &Variable) -> Result<Vec<u8>, ConvertError> {
    match v.dtype {
        DType::F16 => Ok(v.data.clone()),
        _ => Ok(v
            .to_f32()?
            .into_iter()
            .flat_map(|x| half::f16::from_f32(x).to_le_bytes())
            .collect()),
    }
}

/// Rows `[from, to)` of a row-major matrix or vector.
fn rows(v: &Variable, from: usize, to: usize) -> Variable {
    let row_elems: usize = v.dims[1..].iter().product();
    let bytes = row_elems * v.dtype.size();
    let mut dims = v.dims.clone();
    dims[0] = to - from;
    Variable {
        dims,
        dtype: v.dtype,
        data: v.data[from * bytes..to * bytes].to_vec(),
    }
}

struct Builder<'a> {
    m: &'a Ct2Model,
    out: Vec<Tensor>,
    quant: Quant,
}

impl Builder<'_> {
    /// Matrices take the chosen weight type (convolutions stay f16); vectors become f32.
    fn push(&mut self, name: String, v: &Variable) -> Result<(), ConvertError> {
        let data = if v.dims.len() < 2 {
            Data::F32(v.to_f32()?)
        } else if v.dims.len() == 2
            && self.quant.quantises(&name)
            && v.dims[1].is_multiple_of(QK8_0)
        {
            Data::Q8(quantize_q8_0(&v.to_f32()?))
        } else {
            Data::F16(as_f16_bytes(v)?)
        };
        self.out.push(Tensor {
            name,
            dims: v.dims.clone(),
            data,
        });
        Ok(())
    }

    fn copy(&mut self, to: &str, from: &str) -> Result<(), ConvertError> {
        let v = var(self.m, from)?;
        self.push(to.to_string(), v)
    }

    fn linear(&mut self, to: &str, from: &str) -> Result<(), ConvertError> {
        self.copy(&format!("{to}.weight"), &format!("{from}/weight"))?;
        self.copy(&format!("{to}.bias"), &format!("{from}/bias"))
    }

    fn norm(&mut self, to: &str, from: &str) -> Result<(), ConvertError> {
        self.copy(&format!("{to}.weight"), &format!("{from}/gamma"))?;
        self.copy(&format!("{to}.bias"), &format!("{from}/beta"))
    }

    /// Splits a fused projection into parts of `d` rows; whisper.cpp has no key bias.
    fn fused(&mut self, from: &str, names: &[(&str, bool)], d: usize) -> Result<(), ConvertError> {
        let w = var(self.m, &format!("{from}/weight"))?;
        let b = var(self.m, &format!("{from}/bias"))?;
        if w.dims.first() != Some(&(d * names.len())) || b.dims.first() != Some(&(d * names.len()))
        {
            return Err(ConvertError::Shape(format!(
                "`{from}` has shape {:?}, expected {} rows",
                w.dims,
                d * names.len()
            )));
        }
        for (i, (name, has_bias)) in names.iter().enumerate() {
            self.push(format!("{name}.weight"), &rows(w, i * d, (i + 1) * d))?;
            if *has_bias {
                self.push(format!("{name}.bias"), &rows(b, i * d, (i + 1) * d))?;
            }
        }
        Ok(())
    }

    /// A block's self-attention: its layer norm, the fused query/key/value projection split
    /// in three, and the output projection (the same in encoder and decoder).
    fn self_attention(&mut self, to: &str, from: &str, d: usize) -> Result<(), ConvertError> {
        self.norm(
            &format!("{to}.attn_ln"),
            &format!("{from}/self_attention/layer_norm"),
        )?;
        let qkv = [
            (format!("{to}.attn.query"), true),
            (format!("{to}.attn.key"), false),
            (format!("{to}.attn.value"), true),
        ];
        let names: Vec<(&str, bool)> = qkv.iter().map(|(n, b)| (n.as_str(), *b)).collect();
        self.fused(&format!("{from}/self_attention/linear_0"), &names, d)?;
        self.linear(
            &format!("{to}.attn.out"),
            &format!("{from}/self_attention/linear_1"),
        )
    }

    fn ffn(&mut self, to: &str, from: &str) -> Result<(), ConvertError> {
        self.norm(&format!("{to}.mlp_ln"), &format!("{from}/ffn/layer_norm"))?;
        self.linear(&format!("{to}.mlp.0"), &format!("{from}/ffn/linear_0"))?;
        self.linear(&format!("{to}.mlp.2"), &format!("{from}/ffn/linear_1"))
    }
}

fn tensors(m: &Ct2Model, hp: &HParams, quant: Quant) -> Result<Vec<Tensor>, ConvertError> {
    let mut b = Builder {
        m,
        out: Vec::new(),
        quant,
    };
    b.out.push(Tensor {
        name: "encoder.positional_embedding".into(),
        dims: vec![hp.n_audio_ctx, hp.n_audio_state],
        data: Data::F32(sinusoids(hp.n_audio_ctx, hp.n_audio_state)),
    });
    for conv in ["conv1", "conv2"] {
        b.copy(
            &format!("encoder.{conv}.weight"),
            &format!("encoder/{conv}/weight"),
        )?;
        // Conv biases are [n, 1] in whisper.cpp.
        let bias = var(m, &format!("encoder/{conv}/bias"))?;
        b.out.push(Tensor {
            name: format!("encoder.{conv}.bias"),
            dims: vec![bias.len(), 1],
            data: Data::F32(bias.to_f32()?),
        });
    }
    let d = hp.n_audio_state;
    for i in 0..hp.n_audio_layer {
        let (to, from) = (format!("encoder.blocks.{i}"), format!("encoder/layer_{i}"));
        b.self_attention(&to, &from, d)?;
        b.ffn(&to, &from)?;
    }
    b.norm("encoder.ln_post", "encoder/layer_norm")?;

    b.copy(
        "decoder.token_embedding.weight",
        "decoder/embeddings/weight",
    )?;
    // Learned decoder positions are kept as f32, like the encoder's.
    let pe = var(m, "decoder/position_encodings/encodings")?;
    b.out.push(Tensor {
        name: "decoder.positional_embedding".into(),
        dims: pe.dims.clone(),
        data: Data::F32(pe.to_f32()?),
    });
    let d = hp.n_text_state;
    for i in 0..hp.n_text_layer {
        let (to, from) = (format!("decoder.blocks.{i}"), format!("decoder/layer_{i}"));
        b.self_attention(&to, &from, d)?;
        b.norm(
            &format!("{to}.cross_attn_ln"),
            &format!("{from}/attention/layer_norm"),
        )?;
        b.linear(
            &format!("{to}.cross_attn.query"),
            &format!("{from}/attention/linear_0"),
        )?;
        b.fused(
            &format!("{from}/attention/linear_1"),
            &[
                (&format!("{to}.cross_attn.key"), false),
                (&format!("{to}.cross_attn.value"), true),
            ],
            d,
        )?;
        b.linear(
            &format!("{to}.cross_attn.out"),
            &format!("{from}/attention/linear_2"),
        )?;
        b.ffn(&to, &from)?;
    }
    b.norm("decoder.ln", "decoder/layer_norm")?;
    Ok(b.out)
}

fn i32le(w: &mut impl Write, v: usize) -> std::io::Result<()> {
    let v = i32::try_from(v).map_err(|_| std::io::Error::other("value exceeds int32"))?;
    w.write_all(&v.to_le_bytes())
}

/// Writes the whole ggml file for `model` with the BPE vocabulary from `vocabulary_txt`.
pub fn convert(
    model: &Ct2Model,
    vocabulary_txt: &str,
    quant: Quant,
    out: &mut impl Write,
) -> Result<HParams, ConvertError> {
    if model.spec != "WhisperSpec" {
        return Err(ConvertError::Shape(format!(
            "spec is `{}`, not WhisperSpec",
            model.spec
        )));
    }
    let hp = hparams(model)?;
    let vocab = vocabulary(vocabulary_txt)?;
    let tensors = tensors(model, &hp, quant)?;

    out.write_all(&GGML_MAGIC.to_le_bytes())?;
    for v in [
        hp.n_vocab,
        hp.n_audio_ctx,
        hp.n_audio_state,
        hp.n_audio_head,
        hp.n_audio_layer,
        hp.n_text_ctx,
        hp.n_text_state,
        hp.n_text_head,
        hp.n_text_layer,
        hp.n_mels,
        quant.header_ftype(),
    ] {
        i32le(out, v)?;
    }
    i32le(out, hp.n_mels)?;
    i32le(out, N_FFT_BINS)?;
    for x in mel_filters(hp.n_mels) {
        out.write_all(&x.to_le_bytes())?;
    }
    i32le(out, vocab.len())?;
    for t in &vocab {
        i32le(out, t.len())?;
        out.write_all(t)?;
    }
    for t in &tensors {
        let ftype = match t.data {
            Data::F32(_) => 0,
            Data::F16(_) => 1,
            Data::Q8(_) => 8, // GGML_TYPE_Q8_0
        };
        i32le(out, t.dims.len())?;
        i32le(out, t.name.len())?;
        i32le(out, ftype)?;
        for &d in t.dims.iter().rev() {
            i32le(out, d)?;
        }
        out.write_all(t.name.as_bytes())?;
        match &t.data {
            Data::F32(v) => {
                let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
                out.write_all(&bytes)?;
            }
            Data::F16(b) | Data::Q8(b) => out.write_all(b)?,
        }
    }
    Ok(hp)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decoder_only_quantisation_leaves_the_encoder_in_f16() {
        let q = Quant::DecoderQ8_0;
        assert!(q.quantises("decoder.blocks.0.cross_attn.key.weight"));
        assert!(q.quantises("decoder.token_embedding.weight"));
        assert!(!q.quantises("encoder.blocks.0.mlp.0.weight"));
        // ftype 100 + GGML_FTYPE_MOSTLY_Q8_0 (7) with quantisation version 2: the vendored patch.
        assert_eq!(q.header_ftype(), 2107);
        assert!(Quant::Q8_0.quantises("encoder.blocks.0.mlp.0.weight"));
        assert!(!Quant::F16.quantises("decoder.token_embedding.weight"));
    }

    #[test]
    fn q8_0_blocks_hold_a_scale_and_rounded_values_within_half_a_step() {
        let x: Vec<f32> = (0..64)
            .map(|i| ((i * 37 % 64) as f32 - 31.5) / 10.0)
            .collect();
        let q = quantize_q8_0(&x);
        assert_eq!(q.len(), 2 * 34);
        for (b, block) in x.chunks(32).enumerate() {
            let raw = &q[b * 34..(b + 1) * 34];
            let d = half::f16::from_le_bytes([raw[0], raw[1]]).to_f32();
            let amax = block.iter().fold(0f32, |m, v| m.max(v.abs()));
            assert!((d - amax / 127.0).abs() < 1e-3);
            for (j, v) in block.iter().enumerate() {
                let back = f32::from(raw[2 + j] as i8) * d;
                assert!((back - v).abs() <= d * 0.5 + 1e-3, "{v} -> {back}");
            }
        }
        // A zero block has scale 0 and zero values, not NaN.
        assert!(quantize_q8_0(&[0.0; 32]).iter().all(|&b| b == 0));
    }

    #[test]
    fn byte_table_round_trips_all_256_bytes() {
        let t = unicode_to_byte();
        assert_eq!(t.len(), 256);
        assert_eq!(t[&'Ġ'], b' ');
        assert_eq!(t[&'!'], b'!');
    }

    #[test]
    fn vocabulary_stops_at_end_of_text_and_keeps_the_space_token() {
        let v = vocabulary("!\nĠ\nĠthe\n<|endoftext|>\n<|startoftranscript|>\n").unwrap();
        assert_eq!(v, vec![b"!".to_vec(), b" ".to_vec(), b" the".to_vec()]);
        assert!(vocabulary("!\n<|endoftext|>\n").is_err());
    }

    #[test]
    fn mel_filters_match_librosa_slaney_values() {
        let f = mel_filters(80);
        assert_eq!(f.len(), 80 * 201);
        // librosa.filters.mel(sr=16000, n_fft=400, n_mels=80)[0, 1] and [79, 190].
        assert!((f[1] - 0.024_862_4).abs() < 1e-5, "{}", f[1]);
        assert!(f[79 * 201..80 * 201].iter().any(|&x| x > 0.0));
        assert!(f.iter().all(|&x| x >= 0.0));
    }

    #[test]
    fn sinusoids_start_with_sin_zero_and_cos_one() {
        let s = sinusoids(3, 8);
        assert_eq!(&s[0..8], &[0.0, 0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 1.0]);
        assert!((s[8] - 1f32.sin()).abs() < 1e-6);
    }
}
