//! The zip layout a bundle must have before anything in it is read: exactly one unambiguous
//! archive, so that every zip reader sees the same members with the same bytes.
//!
//! Accepted: local entries back to back from byte 0, then the central directory, then (for
//! Zip64) the Zip64 end record and locator, then one end-of-central-directory record with no
//! comment, ending at the last byte. Each central entry agrees with its local header (name,
//! method, flags, CRC, sizes); entries do not overlap and leave no gaps; names are unique, even
//! ignoring case. Refused: data descriptors, encryption, multi-disk archives, prepended or
//! appended bytes (the "polyglot": a second archive after the first, hidden in a comment), and
//! declared sizes a bundle cannot legitimately have (see [`crate::limits::Bundle`]).

use std::io::{Read, Seek, SeekFrom};

use crate::limits::Bundle;

const LOCAL: u32 = 0x0403_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
const END64: u32 = 0x0606_4b50;
const LOCATOR64: u32 = 0x0706_4b50;

/// One member as the central directory declares it, checked against its local header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// Name.
    pub name: String,
    /// 0 stored, 8 deflated.
    pub method: u16,
    /// Compressed size.
    pub compressed: u64,
    /// Declared inflated size (enforced while reading).
    pub size: u64,
}

fn u16_at(b: &[u8], i: usize) -> u16 {
    u16::from_le_bytes([b[i], b[i + 1]])
}
fn u32_at(b: &[u8], i: usize) -> u32 {
    u32::from_le_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]])
}
fn u64_at(b: &[u8], i: usize) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[i..i + 8]);
    u64::from_le_bytes(a)
}

fn read_at<R: Read + Seek>(r: &mut R, at: u64, len: usize) -> Result<Vec<u8>, String> {
    let mut buf = vec![0u8; len];
    r.seek(SeekFrom::Start(at))
        .and_then(|_| r.read_exact(&mut buf))
        .map_err(|_| format!("cut short: {len} bytes expected at offset {at}"))?;
    Ok(buf)
}

/// Zip64 extended information: replaces each 32-bit field that is all ones, in this order.
fn zip64_fields(extra: &[u8], want: &mut [&mut u64]) -> Result<(), String> {
    let mut i = 0;
    while i + 4 <= extra.len() {
        let id = u16_at(extra, i);
        let len = u16_at(extra, i + 2) as usize;
        let body = extra
            .get(i + 4..i + 4 + len)
            .ok_or("an extra field runs past its header")?;
        if id == 0x0001 {
            let mut k = 0;
            for w in want.iter_mut().filter(|w| ***w == 0xFFFF_FFFF) {
                **w = u64_at(body.get(k..k + 8).ok_or("a Zip64 field is short")?, 0);
                k += 8;
            }
            return Ok(());
        }
        i += 4 + len;
    }
    if i != extra.len() {
        return Err("extra fields do not add up to their length".into());
    }
    if want.iter().any(|w| **w == 0xFFFF_FFFF) {
        return Err("a size is marked Zip64 but there is no Zip64 field".into());
    }
    Ok(())
}

/// Checks the layout of the zip in `r` (`len` bytes); returns its members in central
/// directory order.
pub fn check<R: Read + Seek>(r: &mut R, len: u64, limits: &Bundle) -> Result<Vec<Member>, String> {
    if len < 22 {
        return Err("too short to be a zip file".into());
    }
    let end_at = len - 22;
    let end = read_at(r, end_at, 22)?;
    if u32_at(&end, 0) != END {
        return Err("the file does not end with a zip end record (bytes were appended, or the end record carries a comment)".into());
    }
    if u16_at(&end, 20) != 0 {
        return Err("the zip end record declares a comment: bundles have none (a comment can hide a second archive)".into());
    }
    if u16_at(&end, 4) != 0 || u16_at(&end, 6) != 0 || u16_at(&end, 8) != u16_at(&end, 10) {
        return Err("multi-disk zip archives are not bundles".into());
    }
    let mut count = u16_at(&end, 10) as u64;
    let mut cd_size = u32_at(&end, 12) as u64;
    let mut cd_offset = u32_at(&end, 16) as u64;
    let mut cd_end = end_at;
    if count == 0xFFFF || cd_size == 0xFFFF_FFFF || cd_offset == 0xFFFF_FFFF {
        if end_at < 20 + 56 {
            return Err("a Zip64 archive without its Zip64 records".into());
        }
        let loc = read_at(r, end_at - 20, 20)?;
        if u32_at(&loc, 0) != LOCATOR64 || u32_at(&loc, 4) != 0 || u32_at(&loc, 16) != 1 {
            return Err("the Zip64 locator is missing or not right before the end record".into());
        }
        let rec_at = u64_at(&loc, 8);
        if rec_at.checked_add(56) != Some(end_at - 20) {
            return Err("the Zip64 end record is not right before its locator".into());
        }
        let rec = read_at(r, rec_at, 56)?;
        if u32_at(&rec, 0) != END64 || u64_at(&rec, 4) != 44 {
            return Err("the Zip64 end record is malformed".into());
        }
        if u32_at(&rec, 16) != 0 || u32_at(&rec, 20) != 0 || u64_at(&rec, 24) != u64_at(&rec, 32) {
            return Err("multi-disk zip archives are not bundles".into());
        }
        count = u64_at(&rec, 32);
        cd_size = u64_at(&rec, 40);
        cd_offset = u64_at(&rec, 48);
        cd_end = rec_at;
    }
    if count as usize > limits.max_members || count == 0 {
        return Err(format!(
            "{count} members; a bundle has 1 to {}",
            limits.max_members
        ));
    }
    if cd_offset.checked_add(cd_size) != Some(cd_end) {
        return Err("the central directory does not end where the end record begins (bytes hidden between them)".into());
    }
    // Each central entry is at most 46 bytes plus three 16-bit lengths.
    if cd_size > count * (46 + 3 * 0xFFFF) {
        return Err("the central directory is larger than its entries can be".into());
    }
    let cd = read_at(r, cd_offset, cd_size as usize)?;

    let mut members = Vec::new();
    let mut extents: Vec<(u64, u64)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut i = 0usize;
    for n in 0..count {
        let h = cd
            .get(i..i + 46)
            .ok_or_else(|| format!("central entry {n} is cut short"))?;
        if u32_at(h, 0) != CENTRAL {
            return Err(format!("central entry {n} has no entry signature"));
        }
        let flags = u16_at(h, 8);
        let method = u16_at(h, 10);
        let crc = u32_at(h, 16);
        let mut compressed = u32_at(h, 20) as u64;
        let mut size = u32_at(h, 24) as u64;
        let (nl, xl, cl) = (
            u16_at(h, 28) as usize,
            u16_at(h, 30) as usize,
            u16_at(h, 32) as usize,
        );
        let mut offset = u32_at(h, 42) as u64;
        if u16_at(h, 34) != 0 {
            return Err(format!("central entry {n} is on another disk"));
        }
        let name_bytes = cd
            .get(i + 46..i + 46 + nl)
            .ok_or_else(|| format!("central entry {n}'s name is cut short"))?;
        let extra = cd
            .get(i + 46 + nl..i + 46 + nl + xl)
            .ok_or_else(|| format!("central entry {n}'s extra field is cut short"))?;
        if cl != 0 {
            return Err(format!("central entry {n} carries a comment"));
        }
        zip64_fields(extra, &mut [&mut size, &mut compressed, &mut offset])
            .map_err(|e| format!("central entry {n}: {e}"))?;
        i += 46 + nl + xl;
        let name = std::str::from_utf8(name_bytes)
            .map_err(|_| format!("central entry {n}'s name is not UTF-8"))?
            .to_string();
        if !seen.insert(name.to_ascii_lowercase()) {
            return Err(format!("member {name} appears twice"));
        }
        if flags & 0x0001 != 0 {
            return Err(format!("member {name} is encrypted"));
        }
        if flags & 0x0008 != 0 {
            return Err(format!(
                "member {name} uses a data descriptor; bundles declare sizes up front"
            ));
        }
        match method {
            0 if size != compressed => {
                return Err(format!(
                    "member {name} is stored but declares {size} bytes in {compressed}"
                ))
            }
            0 => {}
            8 if size > compressed.saturating_mul(limits.max_ratio).max(64 << 10) => {
                return Err(format!(
                    "member {name} would inflate {compressed} bytes to {size}, past the {}:1 inflation limit for bundle members (a zip bomb?)", limits.max_ratio
                ))
            }
            8 => {}
            m => return Err(format!("member {name} uses compression method {m}; bundles use stored (0) or deflate (8)")),
        }

        // The local header must say the same.
        let lh = read_at(r, offset, 30)?;
        if u32_at(&lh, 0) != LOCAL {
            return Err(format!(
                "member {name}'s local header is missing at offset {offset}"
            ));
        }
        let (lnl, lxl) = (u16_at(&lh, 26) as usize, u16_at(&lh, 28) as usize);
        let lnames = read_at(r, offset + 30, lnl + lxl)?;
        let (mut lcomp, mut lsize) = (u32_at(&lh, 18) as u64, u32_at(&lh, 22) as u64);
        zip64_fields(&lnames[lnl..], &mut [&mut lsize, &mut lcomp])
            .map_err(|e| format!("member {name}'s local header: {e}"))?;
        if &lnames[..lnl] != name_bytes
            || u16_at(&lh, 6) != flags
            || u16_at(&lh, 8) != method
            || u32_at(&lh, 14) != crc
            || lcomp != compressed
            || lsize != size
        {
            return Err(format!(
                "member {name}: the central directory and the local header disagree (two readers would see different files)"
            ));
        }
        let data_end = (offset + 30 + (lnl + lxl) as u64)
            .checked_add(compressed)
            .ok_or_else(|| format!("member {name}'s size overflows"))?;
        extents.push((offset, data_end));
        members.push(Member {
            name,
            method,
            compressed,
            size,
        });
    }
    if i != cd.len() {
        return Err("the central directory holds more than its declared entries".into());
    }
    extents.sort_unstable();
    let mut at = 0u64;
    for (start, end) in extents {
        if start != at {
            return Err(if start < at {
                "members overlap (several entries share the same bytes)".into()
            } else if at == 0 {
                "bytes come before the first member (a file prepended to the zip)".into()
            } else {
                "bytes are hidden between members".into()
            });
        }
        at = end;
    }
    if at != cd_offset {
        return Err("bytes are hidden between the last member and the central directory".into());
    }
    Ok(members)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Cursor, Write};

    fn bundle(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, data) in members {
            z.start_file(*name, zip::write::SimpleFileOptions::default())
                .unwrap();
            z.write_all(data).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    fn run(b: &[u8]) -> Result<Vec<Member>, String> {
        check(&mut Cursor::new(b), b.len() as u64, &Bundle::default())
    }

    #[test]
    fn a_plain_zip_is_accepted_with_its_declared_members() {
        let b = bundle(&[("a.json", b"{}"), ("b.txt", &[7u8; 5000])]);
        let m = run(&b).unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m[1].size, 5000);
    }

    #[test]
    fn a_second_zip_after_the_first_is_refused() {
        let mut a = bundle(&[("a.json", b"{}")]);
        let b = bundle(&[("a.json", b"{\"forged\":1}")]);
        // The first end record's comment length covers the second archive.
        let n = a.len();
        a[n - 2..].copy_from_slice(&(b.len() as u16).to_le_bytes());
        a.extend_from_slice(&b);
        assert!(run(&a).is_err());
        let mut plain = bundle(&[("a.json", b"{}")]);
        plain.extend_from_slice(b"trailing");
        assert!(run(&plain).is_err());
        let mut prefixed = b"MZ-prefix".to_vec();
        prefixed.extend_from_slice(&bundle(&[("a.json", b"{}")]));
        assert!(run(&prefixed).is_err());
    }

    #[test]
    fn entries_sharing_one_member_are_refused() {
        let b = bundle(&[("a.json", b"{}"), ("b.json", b"{}")]);
        let mut z = b.clone();
        // Point the second central entry at the first local header.
        let cd = u32_at(&z, z.len() - 6) as usize;
        let second = cd + 46 + "a.json".len();
        z[second + 42..second + 46].copy_from_slice(&0u32.to_le_bytes());
        let e = run(&z).unwrap_err();
        assert!(e.contains("disagree") || e.contains("overlap"), "{e}");
    }

    #[test]
    fn duplicate_names_even_by_case_are_refused() {
        let b = bundle(&[("a.json", b"{}"), ("A.json", b"{}")]);
        assert!(run(&b).unwrap_err().contains("twice"));
    }

    #[test]
    fn garbage_and_truncation_are_errors_not_panics() {
        for n in 0..200 {
            let b = bundle(&[("a.json", b"{}")]);
            let cut = &b[..b.len().saturating_sub(n)];
            if n > 0 {
                assert!(run(cut).is_err());
            }
        }
        assert!(run(&[0u8; 10]).is_err());
        assert!(run(&[0xFFu8; 4096]).is_err());
    }
}
