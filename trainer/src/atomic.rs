//! Replacing a whole directory at once, so that a reader (or a crash) sees either the old
//! contents or the new ones, never a mix or a half-written file.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

fn sibling(target: &Path, tag: &str) -> Result<PathBuf> {
    let name = target
        .file_name()
        .with_context(|| format!("{} has no directory name", target.display()))?;
    let parent = target.parent().unwrap_or(Path::new("."));
    Ok(parent.join(format!(".{}.{tag}", name.to_string_lossy())))
}

/// Fills a fresh temporary directory beside `target` with `fill`, then puts it in `target`'s
/// place. If `fill` fails, `target` is untouched and the temporary directory is removed.
///
/// On Linux the swap is one `renameat2(RENAME_EXCHANGE)`: atomic even across a crash. Elsewhere
/// it is two renames (the old directory is moved aside first).
pub fn replace_dir(target: &Path, fill: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let staging = sibling(target, "staging")?;
    if staging.exists() {
        // Left over from an interrupted run: it never replaced anything, so it can go.
        std::fs::remove_dir_all(&staging)
            .with_context(|| format!("removing stale {}", staging.display()))?;
    }
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("creating {}", parent.display()))?;
    }
    std::fs::create_dir(&staging).with_context(|| format!("creating {}", staging.display()))?;
    if let Err(e) = fill(&staging) {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    swap_into_place(&staging, target)?;
    if staging.exists() {
        std::fs::remove_dir_all(&staging)
            .with_context(|| format!("removing the replaced {}", staging.display()))?;
    }
    Ok(())
}

#[cfg(target_os = "linux")]
fn swap_into_place(staging: &Path, target: &Path) -> Result<()> {
    use rustix::fs::{CWD, RenameFlags, renameat_with};
    if target.exists() {
        renameat_with(CWD, staging, CWD, target, RenameFlags::EXCHANGE)
            .with_context(|| format!("swapping {} into place", target.display()))
    } else {
        std::fs::rename(staging, target)
            .with_context(|| format!("moving {} into place", target.display()))
    }
}

#[cfg(not(target_os = "linux"))]
fn swap_into_place(staging: &Path, target: &Path) -> Result<()> {
    if target.exists() {
        let old = sibling(target, "old")?;
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(target, &old)
            .with_context(|| format!("moving {} aside", target.display()))?;
        std::fs::rename(staging, target)
            .with_context(|| format!("moving {} into place", target.display()))?;
        std::fs::remove_dir_all(&old).with_context(|| format!("removing {}", old.display()))
    } else {
        std::fs::rename(staging, target)
            .with_context(|| format!("moving {} into place", target.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_contents_and_leaves_no_staging() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("model");
        std::fs::create_dir(&target).expect("mkdir");
        std::fs::write(target.join("old.txt"), "old").expect("write");
        replace_dir(&target, |d| Ok(std::fs::write(d.join("new.txt"), "new")?)).expect("replace");
        assert!(target.join("new.txt").exists());
        assert!(!target.join("old.txt").exists());
        let names: Vec<_> = std::fs::read_dir(dir.path()).expect("ls").collect();
        assert_eq!(names.len(), 1, "only the target is left");
    }

    #[test]
    fn failed_fill_keeps_the_old_contents() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("model");
        std::fs::create_dir(&target).expect("mkdir");
        std::fs::write(target.join("good.txt"), "good").expect("write");
        let result = replace_dir(&target, |d| {
            std::fs::write(d.join("half.txt"), "half")?;
            anyhow::bail!("interrupted")
        });
        assert!(result.is_err());
        assert_eq!(
            std::fs::read_to_string(target.join("good.txt")).expect("read"),
            "good"
        );
        assert!(!target.join("half.txt").exists());
        assert_eq!(std::fs::read_dir(dir.path()).expect("ls").count(), 1);
    }
}
