//! Reader for CTranslate2 `model.bin` files (format version 6), as faster-whisper ships them.
//!
//! The file is untrusted input: every length is checked against the bytes that remain, so a
//! truncated or hostile file gives an error, never a panic or a huge allocation.

use std::collections::BTreeMap;

use thiserror::Error;

/// Element type of a stored variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DType {
    /// 32-bit float.
    F32,
    /// 8-bit signed integer.
    I8,
    /// 16-bit signed integer.
    I16,
    /// 32-bit signed integer.
    I32,
    /// IEEE half precision.
    F16,
    /// bfloat16.
    BF16,
}

impl DType {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0 => DType::F32,
            1 => DType::I8,
            2 => DType::I16,
            3 => DType::I32,
            4 => DType::F16,
            5 => DType::BF16,
            _ => return None,
        })
    }

    /// Size of one element in bytes.
    pub fn size(self) -> usize {
        match self {
            DType::I8 => 1,
            DType::I16 | DType::F16 | DType::BF16 => 2,
            DType::F32 | DType::I32 => 4,
        }
    }
}

/// One named tensor of the model.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Shape, outermost dimension first (PyTorch order).
    pub dims: Vec<usize>,
    /// Element type.
    pub dtype: DType,
    /// Raw little-endian bytes.
    pub data: Vec<u8>,
}

impl Variable {
    /// Number of elements.
    pub fn len(&self) -> usize {
        self.dims.iter().product()
    }

    /// True when the tensor holds no element.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The values as f32, whatever the stored float type.
    pub fn to_f32(&self) -> Result<Vec<f32>, Ct2Error> {
        let c = self.data.chunks_exact(self.dtype.size());
        Ok(match self.dtype {
            DType::F32 => c
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            DType::F16 => c
                .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            DType::BF16 => c
                .map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32())
                .collect(),
            other => {
                return Err(Ct2Error::Unsupported(format!(
                    "{other:?} is not a float type"
                )))
            }
        })
    }

    /// A scalar integer value (CTranslate2 stores attributes such as `num_heads` this way).
    pub fn as_int(&self) -> Option<i64> {
        let b = &self.data;
        match (self.dtype, b.len()) {
            (DType::I8, 1) => Some(b[0] as i8 as i64),
            (DType::I16, 2) => Some(i16::from_le_bytes([b[0], b[1]]) as i64),
            (DType::I32, 4) => Some(i32::from_le_bytes([b[0], b[1], b[2], b[3]]) as i64),
            _ => None,
        }
    }
}

/// A parsed CTranslate2 model.
#[derive(Debug)]
pub struct Ct2Model {
    /// Spec name, e.g. `WhisperSpec`.
    pub spec: String,
    /// Spec revision.
    pub revision: u32,
    /// Variables by name; aliases are resolved into copies of their targets.
    pub variables: BTreeMap<String, Variable>,
}

/// Why a CTranslate2 file could not be read.
#[derive(Debug, Error)]
pub enum Ct2Error {
    /// The file ended before a field that it announced.
    #[error("CTranslate2 model is truncated at byte {offset} (reading {what}): download it again")]
    Truncated {
        /// Byte offset where data ran out.
        offset: usize,
        /// The field being read.
        what: &'static str,
    },
    /// A field holds a value this reader does not understand.
    #[error("CTranslate2 model is not readable: {0}")]
    Unsupported(String),
}

struct Cursor<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Ct2Error> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.buf.len())
            .ok_or(Ct2Error::Truncated {
                offset: self.pos,
                what,
            })?;
        let s = &self.buf[self.pos..end];
        self.pos = end;
        Ok(s)
    }
    fn u8(&mut self, what: &'static str) -> Result<u8, Ct2Error> {
        Ok(self.take(1, what)?[0])
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, Ct2Error> {
        let b = self.take(2, what)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, Ct2Error> {
        let b = self.take(4, what)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn string(&mut self, what: &'static str) -> Result<String, Ct2Error> {
        let n = self.u16(what)? as usize;
        let b = self.take(n, what)?;
        let b = b.strip_suffix(&[0]).unwrap_or(b);
        String::from_utf8(b.to_vec())
            .map_err(|_| Ct2Error::Unsupported(format!("{what} is not UTF-8")))
    }
}

/// Parses a whole `model.bin` held in memory.
pub fn parse(buf: &[u8]) -> Result<Ct2Model, Ct2Error> {
    let mut c = Cursor { buf, pos: 0 };
    let version = c.u32("version")?;
    if version != 6 {
        return Err(Ct2Error::Unsupported(format!(
            "format version {version} (this reader knows version 6)"
        )));
    }
    let spec = c.string("spec name")?;
    let revision = c.u32("revision")?;
    let count = c.u32("variable count")?;
    let mut variables = BTreeMap::new();
    for _ in 0..count {
        let name = c.string("variable name")?;
        let rank = c.u8("rank")? as usize;
        let mut dims = Vec::with_capacity(rank);
        for _ in 0..rank {
            dims.push(c.u32("dimension")? as usize);
        }
        let code = c.u8("dtype")?;
        let dtype = DType::from_code(code)
            .ok_or_else(|| Ct2Error::Unsupported(format!("dtype code {code} of `{name}`")))?;
        let nbytes = c.u32("byte count")? as usize;
        let expected = dims
            .iter()
            .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| Ct2Error::Unsupported(format!("shape of `{name}` overflows")))?;
        if nbytes != expected {
            return Err(Ct2Error::Unsupported(format!(
                "`{name}` announces {nbytes} bytes but its shape {dims:?} needs {expected}"
            )));
        }
        let data = c.take(nbytes, "variable data")?.to_vec();
        variables.insert(name, Variable { dims, dtype, data });
    }
    // Older files may end without an alias table.
    if c.pos < buf.len() {
        let aliases = c.u32("alias count")?;
        for _ in 0..aliases {
            let alias = c.string("alias")?;
            let target = c.string("alias target")?;
            let v = variables.get(&target).cloned().ok_or_else(|| {
                Ct2Error::Unsupported(format!("alias `{alias}` points to missing `{target}`"))
            })?;
            variables.insert(alias, v);
        }
    }
    Ok(Ct2Model {
        spec,
        revision,
        variables,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_str(out: &mut Vec<u8>, s: &str) {
        out.extend_from_slice(&((s.len() + 1) as u16).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
        out.push(0);
    }

    fn tiny_file() -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&6u32.to_le_bytes());
        put_str(&mut b, "WhisperSpec");
        b.extend_from_slice(&3u32.to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        put_str(&mut b, "w");
        b.push(2);
        b.extend_from_slice(&1u32.to_le_bytes());
        b.extend_from_slice(&2u32.to_le_bytes());
        b.push(4);
        b.extend_from_slice(&4u32.to_le_bytes());
        b.extend_from_slice(&half::f16::from_f32(1.5).to_le_bytes());
        b.extend_from_slice(&half::f16::from_f32(-2.0).to_le_bytes());
        b.extend_from_slice(&1u32.to_le_bytes());
        put_str(&mut b, "alias");
        put_str(&mut b, "w");
        b
    }

    #[test]
    fn parses_variables_and_aliases() {
        let m = parse(&tiny_file()).unwrap();
        assert_eq!(m.spec, "WhisperSpec");
        assert_eq!(m.variables["w"].dims, vec![1, 2]);
        assert_eq!(m.variables["alias"].to_f32().unwrap(), vec![1.5, -2.0]);
    }

    #[test]
    fn truncated_file_is_an_error_at_every_cut() {
        let f = tiny_file();
        // Cutting inside the alias table or before it must never panic.
        for cut in 0..f.len() {
            let _ = parse(&f[..cut]);
        }
        assert!(matches!(parse(&f[..20]), Err(Ct2Error::Truncated { .. })));
    }
}
