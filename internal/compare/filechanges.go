package compare

import (
	"errors"
	"fmt"
	gofs "io/fs"

	"github.com/stageline/stageline/internal/report"
)

// ErrLegacyFileRecord is returned by FileChanges when one record is of the
// older version: its digests covered owner ids, so the two cannot be
// compared file by file.
var ErrLegacyFileRecord = errors.New("the file list was recorded by an older stageline (before directories and modes were recorded): the files cannot be compared one by one")

// ErrFileRecordKind is returned by FileChanges when the records' content
// digests are of two kinds (sha256 and git blob ids): every file would
// read as changed.
var ErrFileRecordKind = errors.New("the file list was recorded by an older stageline (sha256 content digests, before git blob ids): the files cannot be compared one by one")

// File change kinds.
const (
	// FileChanged is a change of content (or symlink target, or xattrs),
	// with or without a mode change.
	FileChanged = "changed"
	FileAdded   = "added"
	FileRemoved = "removed"
	// FileMode is a change of mode alone (permission or type bits).
	FileMode = "mode"
)

// FileChange is one path that differs between two file records.
type FileChange struct {
	Path   string `json:"path"`
	Change string `json:"change"`
	// OldMode and NewMode are the permission bits ("0755") of a mode
	// change.
	OldMode string `json:"old_mode,omitempty"`
	NewMode string `json:"new_mode,omitempty"`
}

// FileChanges lists up to limit paths that differ from old to new (decoded
// file records, see report.DecodeFileRecord), in path order, and counts the
// rest. Owners are not compared (BuildKit does not send them). It refuses
// records of two versions with ErrLegacyFileRecord or ErrFileRecordKind.
func FileChanges(old, new []report.FileEntry, limit int) (changes []FileChange, more int, err error) {
	if len(old) > 0 && len(new) > 0 {
		if old[0].Legacy != new[0].Legacy {
			return nil, 0, ErrLegacyFileRecord
		}
		if old[0].Kind != new[0].Kind {
			return nil, 0, ErrFileRecordKind
		}
	}
	add := func(c FileChange) {
		if len(changes) < limit {
			changes = append(changes, c)
		} else {
			more++
		}
	}
	i, j := 0, 0
	for i < len(old) || j < len(new) {
		switch {
		case j == len(new) || (i < len(old) && old[i].Path < new[j].Path):
			add(FileChange{Path: old[i].Path, Change: FileRemoved})
			i++
		case i == len(old) || new[j].Path < old[i].Path:
			add(FileChange{Path: new[j].Path, Change: FileAdded})
			j++
		default:
			switch o, n := old[i], new[j]; {
			case o.Hash != n.Hash:
				add(FileChange{Path: n.Path, Change: FileChanged})
			case o.Mode != n.Mode:
				add(FileChange{Path: n.Path, Change: FileMode, OldMode: permText(o.Mode), NewMode: permText(n.Mode)})
			}
			i++
			j++
		}
	}
	return changes, more, nil
}

// permText is a mode's permission bits as four octal digits ("0755").
func permText(mode uint32) string {
	return fmt.Sprintf("%04o", gofs.FileMode(mode).Perm())
}
