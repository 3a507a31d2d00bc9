//! Writing the CLI's output files safely: an output never replaces an input, and a file is written whole
//! or not at all.
//!
//! Every subcommand that writes files calls [`check_outputs`] with its outputs and inputs before any work
//! (so a mistyped `--out` onto the visibilities is refused at once, not after an hour of calibration), and
//! writes each file through [`write_atomic`] or [`write_atomic_with`]: the bytes go to a temporary file in
//! the destination's folder, which is renamed over the destination only once complete. A failure midway
//! (a full disk, a killed process) leaves the previous file, never a truncated one.

use std::io::Write;
use std::path::{Path, PathBuf};

/// Errors of writing output files.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    /// An output names the same file as an input (by path, through a link, or as a hard link), or a
    /// file inside an input folder (a Measurement Set).
    #[error(
        "{output_flag} {output} is the same file as, or inside, the input {input_flag} {input}: refusing to overwrite an input; choose another output name"
    )]
    OverwritesInput {
        /// The output's flag (e.g. `--out`).
        output_flag: String,
        /// The output's path as given.
        output: PathBuf,
        /// The input's flag (e.g. `--vis`).
        input_flag: String,
        /// The input's path as given.
        input: PathBuf,
    },
    /// An output that cannot be written as a file: a folder, a FIFO (writing would wait for a reader), or
    /// a path in a folder that does not exist.
    #[error("{flag} {path}: {why}")]
    NotAFile {
        /// The output's flag.
        flag: String,
        /// The path, as given.
        path: PathBuf,
        /// What it is instead.
        why: &'static str,
    },
    /// Two outputs name the same file.
    #[error("{first_flag} and {second_flag} both name {path}: give each output its own file")]
    SameOutput {
        /// The first output's flag.
        first_flag: String,
        /// The second output's flag.
        second_flag: String,
        /// The path, as given to the first.
        path: PathBuf,
    },
    /// The file could not be written (or the temporary file not renamed into place).
    #[error("cannot write {path}: {source}")]
    Write {
        /// The destination.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

/// The file `path` names, as one spelling: canonical (links resolved) where it exists, else its folder's
/// canonical form joined with its name (an output that does not exist yet); the path as given when
/// neither can be resolved.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = path.canonicalize() {
        return p;
    }
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    match (parent.canonicalize(), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// Whether `a` and `b` are the same file: the same resolved path, or (Unix) the same device and inode —
/// a hard link.
fn same_file(a: &Path, b: &Path) -> bool {
    if resolved(a) == resolved(b) {
        return true;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        if let (Ok(ma), Ok(mb)) = (std::fs::metadata(a), std::fs::metadata(b)) {
            return ma.dev() == mb.dev() && ma.ino() == mb.ino();
        }
    }
    false
}

/// Why `path` cannot take an output file, if it cannot: a folder, a FIFO, no name, or a folder that does
/// not exist.
fn not_a_file(path: &Path) -> Option<&'static str> {
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.is_dir() {
            return Some("is a folder: give a file name");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt as _;
            if meta.file_type().is_fifo() {
                return Some("is a FIFO (writing would wait for a reader): give a regular file");
            }
        }
        return None;
    }
    if path.file_name().is_none() {
        return Some("names no file");
    }
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => Some("its folder does not exist"),
        _ => None,
    }
}

/// Refuses a set of outputs of which one cannot be a file (a folder, a FIFO, in a missing folder), is the
/// same file as an input or lies inside an input folder (a Measurement Set), or is the same file as another
/// output.
/// `outputs` and `inputs` are `(flag, path)` pairs, the flag as the user typed it (for the message).
///
/// # Errors
/// [`OutputError::NotAFile`], [`OutputError::OverwritesInput`] or [`OutputError::SameOutput`], naming
/// the flags and paths.
pub fn check_outputs(outputs: &[(&str, &Path)], inputs: &[(&str, &Path)]) -> Result<(), OutputError> {
    for (k, (flag, out)) in outputs.iter().enumerate() {
        if let Some(why) = not_a_file(out) {
            return Err(OutputError::NotAFile {
                flag: (*flag).into(),
                path: out.to_path_buf(),
                why,
            });
        }
        // An input folder (a Measurement Set) takes no output inside it either.
        let overwrites = |i: &Path| same_file(out, i) || (i.is_dir() && resolved(out).starts_with(resolved(i)));
        if let Some((input_flag, input)) = inputs.iter().find(|(_, i)| overwrites(i)) {
            return Err(OutputError::OverwritesInput {
                output_flag: (*flag).into(),
                output: out.to_path_buf(),
                input_flag: (*input_flag).into(),
                input: input.to_path_buf(),
            });
        }
        if let Some((second, _)) = outputs[k + 1..].iter().find(|(_, o)| same_file(out, o)) {
            return Err(OutputError::SameOutput {
                first_flag: (*flag).into(),
                second_flag: (*second).into(),
                path: out.to_path_buf(),
            });
        }
    }
    Ok(())
}

/// Whether this process writes the output files (see [`set_writer`]).
static WRITER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Makes this process write its output files (the default) or skip them: in an MPI job every process runs
/// the whole command and holds the same results, and only the first writes them.
pub fn set_writer(writes: bool) {
    WRITER.store(writes, std::sync::atomic::Ordering::Relaxed);
}

/// Silences this process of an MPI job (feature `mpi`), which is not the one that speaks: it no longer
/// writes output files ([`set_writer`]), and its standard output and error go to `/dev/null`. Returns a
/// descriptor of the original standard error, for an error of its own, where one could be kept.
#[cfg(feature = "mpi")]
pub fn silence_process() -> Option<i32> {
    set_writer(false);
    // SAFETY: plain POSIX calls on this process's own descriptors 1 and 2 and a fresh one for /dev/null;
    // the returned descriptors are checked.
    unsafe {
        let saved = libc::dup(2);
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
        if null >= 0 {
            libc::dup2(null, 1);
            libc::dup2(null, 2);
            libc::close(null);
        }
        (saved >= 0).then_some(saved)
    }
}

/// Writes `bytes` to `path` atomically (see [`write_atomic_with`]).
///
/// # Errors
/// [`OutputError::Write`].
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), OutputError> {
    write_atomic_with(path, |w| w.write_all(bytes))
}

/// Writes a file through `fill` (given a buffered writer) to a temporary file beside `path`, then renames
/// it over `path`: readers see the old file or the whole new one, never a part. On any error the temporary
/// file is removed and `path` is left as it was.
///
/// # Errors
/// [`OutputError::Write`] with `fill`'s error, or the creation, flush or rename's.
pub fn write_atomic_with(
    path: &Path,
    fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> std::io::Result<()>,
) -> Result<(), OutputError> {
    if !WRITER.load(std::sync::atomic::Ordering::Relaxed) {
        return Ok(());
    }
    let fail = |source| OutputError::Write {
        path: path.to_path_buf(),
        source,
    };
    let name = path
        .file_name()
        .ok_or_else(|| fail(std::io::Error::other("the path names no file")))?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(name);
    temp_name.push(format!(".{}.partial", std::process::id()));
    let temp = path.with_file_name(temp_name);
    // A destination that is not a regular file (a FIFO, /dev/stdout) cannot be replaced by a rename:
    // written in place.
    if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) {
        let mut w = std::io::BufWriter::new(std::fs::OpenOptions::new().write(true).open(path).map_err(fail)?);
        return fill(&mut w).and_then(|()| w.flush()).map_err(fail);
    }
    let result = (|| {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&temp)?);
        fill(&mut w)?;
        let file = w.into_inner().map_err(std::io::IntoInnerError::into_error)?;
        file.sync_all()?;
        std::fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result.map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!("sparsimony-output-{}", std::process::id()));
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn an_output_onto_an_input_is_refused_by_any_spelling() {
        let d = dir();
        let input = d.join("vis.csv");
        std::fs::write(&input, "a\n1\n").unwrap();
        let spelled = d.join(".").join("vis.csv");
        let e = check_outputs(&[("--out", &spelled)], &[("--vis", &input)]).unwrap_err();
        assert!(matches!(e, OutputError::OverwritesInput { .. }), "{e}");
        assert!(
            e.to_string().contains("--out") && e.to_string().contains("--vis"),
            "{e}"
        );
        #[cfg(unix)]
        {
            let hard = d.join("hard.csv");
            let _ = std::fs::remove_file(&hard);
            std::fs::hard_link(&input, &hard).unwrap();
            assert!(check_outputs(&[("--out", &hard)], &[("--vis", &input)]).is_err());
            let soft = d.join("soft.csv");
            let _ = std::fs::remove_file(&soft);
            std::os::unix::fs::symlink(&input, &soft).unwrap();
            assert!(check_outputs(&[("--out", &soft)], &[("--vis", &input)]).is_err());
        }
        // A new file, and two distinct outputs, pass; the same new file twice does not.
        let new = d.join("image.fits");
        let plot = d.join("image.svg");
        check_outputs(&[("--out", &new), ("--plot", &plot)], &[("--vis", &input)]).unwrap();
        let e = check_outputs(&[("--out", &new), ("--plot", &d.join("./image.fits"))], &[]).unwrap_err();
        assert!(matches!(e, OutputError::SameOutput { .. }), "{e}");
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temporary() {
        let d = dir();
        let path = d.join("kept.txt");
        std::fs::write(&path, "old").unwrap();
        let e = write_atomic_with(&path, |w| {
            w.write_all(b"new, half written")?;
            Err(std::io::Error::other("disk full"))
        })
        .unwrap_err();
        assert!(e.to_string().contains("disk full"), "{e}");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "old");
        let left: Vec<_> = std::fs::read_dir(&d)
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".partial"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
        write_atomic(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
    }
}
