//! `cargo xtask campaign merge OUT IN...`: the shards of one campaign, joined into one.
//!
//! The records are merged by `campaign::merge_files` (which refuses mixed
//! seeds and conflicting records). The shards' manifests, where they have
//! them, must describe one campaign; the merged campaign gets a manifest
//! covering them all, so `replay` and `report` work on it as on any other.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use campaign::merge_files;

use crate::campaign::args::MergeArgs;
use crate::campaign::error::CampaignError;
use crate::campaign::layout::{campaigns_root, MANIFEST_FILE_NAME};
use crate::campaign::manifest::Manifest;
use crate::campaign::outputs;
use crate::paths::Paths;
use crate::shell;

/// Runs `cargo xtask campaign merge`.
pub fn run(args: MergeArgs) -> Result<ExitCode, CampaignError> {
    let root = campaigns_root(&Paths::discover());
    let inputs: Vec<PathBuf> = args.inputs.iter().map(|input| input.results_file(&root)).collect();
    let mut manifests = Vec::new();
    for input in &inputs {
        if !input.is_file() {
            return Err(CampaignError::NoResults { path: input.clone() });
        }
        let path = manifest_beside(input);
        if let Some(manifest) = Manifest::read(&path)? {
            manifests.push((path, manifest));
        }
    }
    let manifest = merged_manifest(&manifests)?;

    let (out_dir, out_file) = (args.out.dir(&root), args.out.results_file(&root));
    std::fs::create_dir_all(&out_dir)
        .map_err(|source| CampaignError::Io { what: format!("creating {}", out_dir.display()), source })?;
    let summary = merge_files(&inputs, &out_file)?;
    for (input, torn) in &summary.torn {
        shell::note(format!(
            "campaign: {}:{}: an incomplete last line ({} bytes) was left out",
            input.display(),
            torn.line,
            torn.bytes
        ));
    }
    shell::note(format!(
        "campaign: merged {} files into {}: {} trials ({} duplicates dropped)",
        inputs.len(),
        out_file.display(),
        summary.records,
        summary.duplicates
    ));
    match manifest {
        Some(manifest) => manifest.write(&manifest_beside(&out_file))?,
        None => shell::note("campaign: no input has a campaign.json, so the merged campaign has none (replay needs one)"),
    }
    let records = outputs::read_records(&out_file)?;
    outputs::summarise(&out_dir, &args.out.label(&root), &records)?;
    Ok(ExitCode::SUCCESS)
}

/// The manifest of the campaign whose results file is `results`.
fn manifest_beside(results: &Path) -> PathBuf {
    results.parent().unwrap_or(Path::new(".")).join(MANIFEST_FILE_NAME)
}

/// One manifest for shards of one campaign: the most trials any of them
/// has, and every configuration any of them runs. `None` if there are none.
fn merged_manifest(manifests: &[(PathBuf, Manifest)]) -> Result<Option<Manifest>, CampaignError> {
    let Some((first_path, first)) = manifests.first() else {
        return Ok(None);
    };
    let mut merged = first.clone();
    for (path, manifest) in &manifests[1..] {
        let same_campaign = manifest.same_plan(first)
            && (manifest.timeout_s, manifest.release) == (first.timeout_s, first.release);
        if !same_campaign {
            return Err(CampaignError::MixedManifests { first: first_path.clone(), second: path.clone() });
        }
        merged.trials = merged.trials.max(manifest.trials);
        for config in &manifest.configs {
            if !merged.configs.contains(config) {
                merged.configs.push(*config);
            }
        }
    }
    Ok(Some(merged))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::manifest::tests::manifest;
    use fault_inject::{Config, Seed};

    #[test]
    fn shards_of_one_campaign_merge_into_one_manifest() {
        assert_eq!(merged_manifest(&[]).unwrap(), None);
        let a = manifest();
        let mut b = manifest();
        b.trials = 9;
        b.configs = vec![Config::Restart, Config::Unwind];
        let merged = merged_manifest(&[("a".into(), a.clone()), ("b".into(), b)]).unwrap().unwrap();
        assert_eq!(merged.trials, 9);
        assert_eq!(merged.configs, [Config::Unwind, Config::NoRecovery, Config::Restart]);
        assert_eq!(merged.seed, a.seed);
    }

    #[test]
    fn shards_of_different_campaigns_are_refused() {
        let mut other = manifest();
        other.seed = Seed(99);
        let error = merged_manifest(&[("a/campaign.json".into(), manifest()), ("b/campaign.json".into(), other)])
            .unwrap_err();
        assert!(error.to_string().starts_with("a/campaign.json and b/campaign.json are different campaigns"), "{error}");
        let mut slower = manifest();
        slower.timeout_s += 1;
        assert!(merged_manifest(&[("a".into(), manifest()), ("b".into(), slower)]).is_err());
    }
}
