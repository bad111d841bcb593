//! What Lambda's `provided.al2023` runtime can start: an ELF executable for the
//! function's architecture, needing no glibc newer than the runtime's (Amazon Linux
//! 2023 ships glibc 2.34). A zip that fails here would deploy fine and fail at its
//! first invocation (`Runtime.InvalidEntrypoint`, or "GLIBC_2.39 not found"), hours
//! later, in the logs of an alarm.
//!
//! Only the ELF header and the `.gnu.version_r` section (the versions a dynamic
//! executable needs, `SHT_GNU_verneed`) are read: enough for the two checks, without a
//! parsing dependency.

use std::io::Read;

use thiserror::Error;

use crate::config::Arch;

/// The newest glibc the `provided.al2023` runtime has.
pub const RUNTIME_GLIBC: GlibcVersion = GlibcVersion(2, 34);

/// `e_machine` values (ELF gABI).
const EM_X86_64: u16 = 62;
const EM_AARCH64: u16 = 183;
/// `sh_type` of the version-needs section.
const SHT_GNU_VERNEED: u32 = 0x6fff_fffe;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GlibcVersion(pub u32, pub u32);

impl std::fmt::Display for GlibcVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0, self.1)
    }
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum BootstrapError {
    #[error("the zip holds no `bootstrap` file")]
    NoBootstrap,
    #[error(
        "`bootstrap` is not a Linux executable (it starts {0:02x?}, not an ELF header); a binary built on macOS or Windows cannot run on Lambda: build with `fangops build`, which cross-compiles"
    )]
    NotElf(Vec<u8>),
    #[error("`bootstrap` is a {0}-bit ELF; Lambda runs 64-bit little-endian executables")]
    WrongClass(u8),
    #[error(
        "`bootstrap` is built for {found}, but the environment runs on {expected}: build with `fangops build --arch {expected}`"
    )]
    WrongMachine { found: String, expected: Arch },
    #[error(
        "`bootstrap` needs glibc {needed}, but Lambda's provided.al2023 runtime has {RUNTIME_GLIBC}: build with `fangops build`, which pins glibc {RUNTIME_GLIBC} through cargo-zigbuild"
    )]
    GlibcTooNew { needed: GlibcVersion },
    #[error("`bootstrap` is a truncated or malformed ELF file ({0})")]
    Malformed(&'static str),
}

/// What the checks read off one binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bootstrap {
    pub arch: Arch,
    /// The newest `GLIBC_x.y` the binary needs; None for a static binary.
    pub glibc: Option<GlibcVersion>,
}

fn machine_name(machine: u16) -> String {
    match machine {
        EM_X86_64 => "x86_64".to_owned(),
        EM_AARCH64 => "arm64".to_owned(),
        3 => "x86 (32-bit)".to_owned(),
        40 => "arm (32-bit)".to_owned(),
        other => format!("ELF machine {other}"),
    }
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn bytes(&self, at: usize, n: usize) -> Result<&[u8], BootstrapError> {
        at.checked_add(n)
            .and_then(|end| self.0.get(at..end))
            .ok_or(BootstrapError::Malformed("an offset points past the end"))
    }
    fn u16(&self, at: usize) -> Result<u16, BootstrapError> {
        let b = self.bytes(at, 2)?;
        Ok(u16::from_le_bytes([b[0], b[1]]))
    }
    fn u32(&self, at: usize) -> Result<u32, BootstrapError> {
        let b = self.bytes(at, 4)?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&self, at: usize) -> Result<usize, BootstrapError> {
        let b = self.bytes(at, 8)?;
        let v = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]);
        usize::try_from(v).map_err(|_| BootstrapError::Malformed("an offset does not fit"))
    }
    fn c_str(&self, at: usize) -> Result<&str, BootstrapError> {
        let rest = self
            .0
            .get(at..)
            .ok_or(BootstrapError::Malformed("a name past the end"))?;
        let end = rest
            .iter()
            .position(|&b| b == 0)
            .ok_or(BootstrapError::Malformed("an unterminated name"))?;
        std::str::from_utf8(&rest[..end]).map_err(|_| BootstrapError::Malformed("a name"))
    }
}

fn parse_glibc(name: &str) -> Option<GlibcVersion> {
    let mut parts = name.strip_prefix("GLIBC_")?.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next().map_or(Some(0), |m| m.parse().ok())?;
    Some(GlibcVersion(major, minor))
}

/// Reads an executable's header and the glibc versions it needs.
pub fn inspect(binary: &[u8]) -> Result<Bootstrap, BootstrapError> {
    if !binary.starts_with(b"\x7fELF") {
        return Err(BootstrapError::NotElf(
            binary.iter().take(4).copied().collect(),
        ));
    }
    let r = Reader(binary);
    let class = r.bytes(4, 1)?[0];
    let data = r.bytes(5, 1)?[0];
    if class != 2 || data != 1 {
        return Err(BootstrapError::WrongClass(if class == 1 { 32 } else { 64 }));
    }
    let machine = r.u16(18)?;
    let arch = match machine {
        EM_X86_64 => Arch::X86_64,
        EM_AARCH64 => Arch::Arm64,
        other => {
            return Err(BootstrapError::WrongMachine {
                found: machine_name(other),
                expected: Arch::X86_64, // replaced by `check`, which knows the env's
            });
        }
    };
    let shoff = r.u64(0x28)?;
    let shentsize = usize::from(r.u16(0x3a)?);
    let shnum = usize::from(r.u16(0x3c)?);
    // Every offset comes from the file: sums and products are checked, so a crafted
    // header is Malformed, never an overflow.
    let add = |a: usize, b: usize| {
        a.checked_add(b)
            .ok_or(BootstrapError::Malformed("an offset overflows"))
    };
    let mul = |a: usize, b: usize| {
        a.checked_mul(b)
            .ok_or(BootstrapError::Malformed("an offset overflows"))
    };
    let mut glibc = None;
    for i in 0..shnum {
        let sh = add(shoff, mul(i, shentsize)?)?;
        if r.u32(add(sh, 4)?)? != SHT_GNU_VERNEED {
            continue;
        }
        let offset = r.u64(add(sh, 0x18)?)?;
        let link = r.u32(add(sh, 0x28)?)? as usize;
        let count = r.u32(add(sh, 0x2c)?)? as usize; // sh_info: the number of entries
        let strtab = r.u64(add(add(shoff, mul(link, shentsize)?)?, 0x18)?)?;
        let mut need = offset;
        for _ in 0..count {
            let aux_count = usize::from(r.u16(add(need, 2)?)?);
            let mut aux = add(need, r.u32(add(need, 8)?)? as usize)?;
            for _ in 0..aux_count {
                let name = r.c_str(add(strtab, r.u32(add(aux, 8)?)? as usize)?)?;
                if let Some(v) = parse_glibc(name) {
                    glibc = glibc.max(Some(v));
                }
                aux = add(aux, r.u32(add(aux, 12)?)? as usize)?;
            }
            let next = r.u32(add(need, 12)?)? as usize;
            if next == 0 {
                break;
            }
            need = add(need, next)?;
        }
    }
    Ok(Bootstrap { arch, glibc })
}

/// Checks that `binary` can run on Lambda for an env of `expected` architecture.
pub fn check(binary: &[u8], expected: Arch) -> Result<Bootstrap, BootstrapError> {
    let found = inspect(binary).map_err(|e| match e {
        BootstrapError::WrongMachine { found, .. } => {
            BootstrapError::WrongMachine { found, expected }
        }
        e => e,
    })?;
    if found.arch != expected {
        return Err(BootstrapError::WrongMachine {
            found: found.arch.to_string(),
            expected,
        });
    }
    if let Some(needed) = found.glibc.filter(|v| *v > RUNTIME_GLIBC) {
        return Err(BootstrapError::GlibcTooNew { needed });
    }
    Ok(found)
}

/// The `bootstrap` of a Lambda zip, checked.
pub fn check_zip(zip: &[u8], expected: Arch) -> Result<Bootstrap, BootstrapError> {
    let mut archive =
        zip::ZipArchive::new(std::io::Cursor::new(zip)).map_err(|_| BootstrapError::NoBootstrap)?;
    let mut entry = archive
        .by_name("bootstrap")
        .map_err(|_| BootstrapError::NoBootstrap)?;
    let mut binary = Vec::new();
    entry
        .read_to_end(&mut binary)
        .map_err(|_| BootstrapError::Malformed("the zip entry does not decompress"))?;
    check(&binary, expected)
}

/// A minimal ELF executable for tests: a header, and optionally a version-needs
/// section naming `versions` of libc.so.6.
pub fn sample(machine: Arch, versions: &[&str]) -> Vec<u8> {
    let mut strtab = b"\0libc.so.6\0".to_vec();
    let names: Vec<u32> = versions
        .iter()
        .map(|v| {
            let at = strtab.len() as u32;
            strtab.extend(v.as_bytes());
            strtab.push(0);
            at
        })
        .collect();
    // Verneed (16 bytes) then one Vernaux (16 bytes) per version.
    let mut verneed = Vec::new();
    verneed.extend(1u16.to_le_bytes()); // vn_version
    verneed.extend((names.len() as u16).to_le_bytes()); // vn_cnt
    verneed.extend(1u32.to_le_bytes()); // vn_file: "libc.so.6"
    verneed.extend(16u32.to_le_bytes()); // vn_aux
    verneed.extend(0u32.to_le_bytes()); // vn_next
    for (i, name) in names.iter().enumerate() {
        verneed.extend(0u32.to_le_bytes()); // vna_hash
        verneed.extend(0u16.to_le_bytes()); // vna_flags
        verneed.extend(2u16.to_le_bytes()); // vna_other
        verneed.extend(name.to_le_bytes()); // vna_name
        let next: u32 = if i + 1 == names.len() { 0 } else { 16 };
        verneed.extend(next.to_le_bytes());
    }
    let strtab_at = 64usize;
    let verneed_at = strtab_at + strtab.len();
    let shoff = verneed_at + verneed.len();
    let mut out = vec![0u8; 64];
    out[..4].copy_from_slice(b"\x7fELF");
    out[4] = 2; // 64-bit
    out[5] = 1; // little-endian
    out[6] = 1; // version
    out[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    let em = match machine {
        Arch::X86_64 => EM_X86_64,
        Arch::Arm64 => EM_AARCH64,
    };
    out[18..20].copy_from_slice(&em.to_le_bytes());
    let sections = if versions.is_empty() { 0u16 } else { 3 };
    out[0x28..0x30].copy_from_slice(&(shoff as u64).to_le_bytes());
    out[0x3a..0x3c].copy_from_slice(&64u16.to_le_bytes());
    out[0x3c..0x3e].copy_from_slice(&sections.to_le_bytes());
    out.extend(&strtab);
    out.extend(&verneed);
    if sections > 0 {
        let section = |kind: u32, offset: usize, link: u32, info: u32| {
            let mut s = vec![0u8; 64];
            s[4..8].copy_from_slice(&kind.to_le_bytes());
            s[0x18..0x20].copy_from_slice(&(offset as u64).to_le_bytes());
            s[0x28..0x2c].copy_from_slice(&link.to_le_bytes());
            s[0x2c..0x30].copy_from_slice(&info.to_le_bytes());
            s
        };
        out.extend(section(0, 0, 0, 0)); // the null section
        out.extend(section(3, strtab_at, 0, 0)); // SHT_STRTAB
        out.extend(section(SHT_GNU_VERNEED, verneed_at, 1, 1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_binary_for_the_env_passes() {
        let bin = sample(Arch::Arm64, &["GLIBC_2.17", "GLIBC_2.34", "GLIBC_2.28"]);
        let found = check(&bin, Arch::Arm64).unwrap();
        assert_eq!(found.glibc, Some(GlibcVersion(2, 34)));
        // A static binary needs no glibc at all.
        assert_eq!(
            check(&sample(Arch::X86_64, &[]), Arch::X86_64)
                .unwrap()
                .glibc,
            None
        );
    }

    #[test]
    fn the_wrong_machine_is_refused() {
        let err = check(&sample(Arch::Arm64, &[]), Arch::X86_64).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`bootstrap` is built for arm64, but the environment runs on x86_64: build with `fangops build --arch x86_64`"
        );
        let mut riscv = sample(Arch::X86_64, &[]);
        riscv[18..20].copy_from_slice(&243u16.to_le_bytes());
        let err = check(&riscv, Arch::Arm64).unwrap_err().to_string();
        assert!(
            err.contains("built for ELF machine 243") && err.contains("arm64"),
            "{err}"
        );
    }

    #[test]
    fn a_newer_glibc_is_refused() {
        let bin = sample(Arch::X86_64, &["GLIBC_2.2.5", "GLIBC_2.39"]);
        let err = check(&bin, Arch::X86_64).unwrap_err();
        assert_eq!(
            err,
            BootstrapError::GlibcTooNew {
                needed: GlibcVersion(2, 39)
            }
        );
        assert!(err.to_string().contains("needs glibc 2.39"), "{err}");
        assert!(err.to_string().contains("has 2.34"), "{err}");
    }

    #[test]
    fn not_an_elf_is_refused() {
        // What `cargo build` makes on a Mac: a Mach-O binary.
        let err = check(b"\xcf\xfa\xed\xfe\x0c\x00\x00\x01", Arch::Arm64).unwrap_err();
        assert!(matches!(err, BootstrapError::NotElf(_)));
        assert!(err.to_string().contains("not a Linux executable"), "{err}");
        // Offsets near usize::MAX: Malformed, not an overflow.
        let mut huge = sample(Arch::X86_64, &["GLIBC_2.17"]);
        huge[0x28..0x30].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(matches!(
            check(&huge, Arch::X86_64),
            Err(BootstrapError::Malformed(_))
        ));
        let mut truncated = sample(Arch::X86_64, &["GLIBC_2.17"]);
        truncated.truncate(200);
        assert!(matches!(
            check(&truncated, Arch::X86_64),
            Err(BootstrapError::Malformed(_))
        ));
    }

    #[test]
    fn zips_are_checked_by_their_bootstrap() {
        let zip = super::super::package_bootstrap(&sample(Arch::Arm64, &["GLIBC_2.34"])).unwrap();
        assert!(check_zip(&zip, Arch::Arm64).is_ok());
        assert!(matches!(
            check_zip(&zip, Arch::X86_64),
            Err(BootstrapError::WrongMachine { .. })
        ));
        assert_eq!(
            check_zip(b"PK\x05\x06", Arch::Arm64).unwrap_err(),
            BootstrapError::NoBootstrap
        );
    }

    /// The binary running these tests is a real ELF of this machine: the parser reads
    /// real version-needs sections, not only the sample's.
    #[test]
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    fn reads_a_real_executable() {
        let exe = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let found = inspect(&exe).unwrap();
        assert_eq!(Some(found.arch), super::super::host_arch());
        let glibc = found.glibc.expect("a glibc executable needs versions");
        assert!(glibc >= GlibcVersion(2, 2), "{glibc}");
    }
}
