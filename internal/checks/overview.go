package checks

// overviewKey stores the overview check among a commit's check runs. It is
// not a valid build key (see report.ParseArtifactName), so it never names a build's check.
const overviewKey = "*overview"

// overviewName is the overview check's name: not of the "stageline: KEY"
// form, so no build key can take it.
const overviewName = "stageline (overview)"
