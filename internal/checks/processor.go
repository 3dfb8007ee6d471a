package checks

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/google/go-github/v66/github"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stageline/stageline/internal/render"
	"github.com/stageline/stageline/internal/store"
)

// ClientSource gives the API client of an installation; *Clients is one.
type ClientSource interface {
	Client(ctx context.Context, installationID int64) (*github.Client, error)
}

// Options configure a Processor.
type Options struct {
	// Download fetches artifacts from their signed URLs. It must not add
	// GitHub credentials. Default: a plain client with a 60 s timeout.
	Download *http.Client
	// Registerer receives the processor's metrics; nil means none.
	Registerer prometheus.Registerer
	// History configures the build history and verdicts.
	History HistoryOptions
	// Links, when set, makes each check run's details link open its
	// build's dashboard page instead of the workflow run.
	Links Links
}

// Links are the dashboard addresses check runs link to.
type Links interface {
	// Build is the page of a build key with the run's build marked.
	Build(repoID int64, key string, runID int64) string
	// Repo is a repository's page: its build keys.
	Repo(repoID int64) string
}

// Processor handles stored deliveries. It is safe for concurrent use.
type Processor struct {
	store    Store
	clients  ClientSource
	download *http.Client
	limits   Limits
	now      func() time.Time
	posted   *prometheus.CounterVec
	history  HistoryOptions
	links    Links
	// configs remembers configuration files for conditional requests.
	configs configCache
	// calls observes each delivery's rate-limited API calls.
	calls *prometheus.HistogramVec
}

// New returns a Processor.
func New(st Store, clients ClientSource, opts Options) (*Processor, error) {
	p := &Processor{store: st, clients: clients, download: opts.Download, limits: DefaultLimits, now: time.Now,
		history: opts.History.withDefaults(), links: opts.Links,
		posted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stageline_check_runs_total",
			Help: "Check runs created or updated, by conclusion (empty while in progress).",
		}, []string{"conclusion"}),
		calls: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "stageline_github_rate_limited_calls",
			Help:    "GitHub API calls that cost rate limit (installation token, 304 Not Modified not counted) per processed delivery, by event.action; workflow_run.completed is one build.",
			Buckets: []float64{0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 20},
		}, []string{"delivery"}),
	}
	if p.download == nil {
		p.download = &http.Client{Timeout: 60 * time.Second}
	}
	if opts.Registerer != nil {
		for _, c := range []prometheus.Collector{p.posted, p.calls} {
			if err := opts.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("register check metrics: %w", err)
			}
		}
	}
	return p, nil
}

// Handle processes one delivery. An error means "try again later" unless it
// wraps Permanent; RetryAt tells when GitHub's rate limits allow it.
func (p *Processor) Handle(ctx context.Context, log *slog.Logger, d store.Delivery) error {
	action, err := deliveryAction(d)
	if err != nil {
		return err
	}
	if !handles(d.Event, action) {
		log.Info("event not handled", "action", action)
		return nil
	}
	ctx, calls := withCallCounter(ctx)
	defer func() { p.calls.WithLabelValues(d.Event + "." + action).Observe(float64(calls.n.Load())) }()
	return handlers[d.Event][action](p, ctx, log, d)
}

// deliveryAction is the action of a delivery, as intake stored it. A
// delivery of a handled event stored before intake kept the action has
// none: its payload's is read.
func deliveryAction(d store.Delivery) (string, error) {
	if _, ok := handlers[d.Event]; !ok || d.Action != "" {
		return d.Action, nil
	}
	var head struct {
		Action string `json:"action"`
	}
	if err := json.Unmarshal(d.Payload, &head); err != nil {
		return "", Permanent{fmt.Errorf("decode %s: %w", d.Event, err)}
	}
	return head.Action, nil
}

// job is one workflow run being turned into check runs.
type job struct {
	gh       gitHub
	log      *slog.Logger
	repo     *github.Repository // the repository the workflow ran in: the base
	run      *github.WorkflowRun
	attempts int
	// pr is the pull request the run built, 0 if none is known (set by
	// base).
	pr int
	// onlyKey limits a rerequested check to its build key.
	onlyKey *string
	// fresh creates new check runs instead of updating the stored ones,
	// as GitHub expects for a rerequested check.
	fresh bool
	// refresh processes the build key again although its check is
	// completed for the run, updating it in place (a waiver changed it).
	refresh bool
}

func (j *job) owner() string { return j.repo.GetOwner().GetLogin() }
func (j *job) name() string  { return j.repo.GetName() }
func (j *job) sha() string   { return j.run.GetHeadSHA() }

// checkRunEvent is the part of a check_run delivery the App reads. Decoded
// by hand rather than with go-github's CheckRunEvent, whose timestamps
// refuse the "2018-04-25 20:42:10" form found in some deliveries.
type checkRunEvent struct {
	Action   string `json:"action"`
	CheckRun struct {
		ID      int64  `json:"id"`
		HeadSHA string `json:"head_sha"`
	} `json:"check_run"`
	Repository   hookRepository `json:"repository"`
	Installation struct {
		ID int64 `json:"id"`
	} `json:"installation"`
}

// rerequested redoes a check run a user asked to re-run from the Checks
// tab: its build key's check, as a new check run.
func (p *Processor) rerequested(ctx context.Context, log *slog.Logger, d store.Delivery) error {
	var ev checkRunEvent
	if err := json.Unmarshal(d.Payload, &ev); err != nil {
		return Permanent{fmt.Errorf("decode check_run: %w", err)}
	}
	attempts := d.Attempts
	stored, err := p.store.CheckRunByID(ctx, ev.CheckRun.ID)
	if err != nil {
		return err
	}
	if stored == nil || stored.RunID == 0 || stored.RepoID != ev.Repository.ID {
		log.Info("rerequested check run is not one the App completed", "check_run", ev.CheckRun.ID)
		return nil
	}
	cl, err := p.clients.Client(ctx, ev.Installation.ID)
	if err != nil {
		return err
	}
	repo := ev.Repository.repo()
	// Take the run from GitHub, not from the stored check: the run's
	// metadata is what decides trust.
	run, _, err := cl.Actions.GetWorkflowRunByID(ctx, repo.GetOwner().GetLogin(), repo.GetName(), stored.RunID)
	if err != nil {
		return p.apiErr("get workflow run", err)
	}
	j := &job{gh: apiOf(cl), log: log, repo: repo, run: run, attempts: attempts, fresh: true}
	if stored.BuildKey != "" {
		j.onlyKey = &stored.BuildKey
	}
	log.Info("redoing check run", "check_run", stored.CheckRunID, "run", stored.RunID, "build_key", stored.BuildKey)
	return p.completed(ctx, j)
}

// apiErr wraps a GitHub API error, marking the ones no retry can fix.
func (p *Processor) apiErr(what string, err error) error {
	err = fmt.Errorf("%s: %w", what, err)
	if _, ok := RetryAt(err, p.now(), 0); !ok && permanent(err) {
		return Permanent{err}
	}
	return err
}

// GiveUp ends the checks a delivery that failed for good left in progress
// (dispatch.GiveUpFunc): a workflow_run delivery's in-progress checks on
// its commit (the "Building…" placeholder or a build key's) are completed
// as neutral, saying what went wrong and that re-running the workflow will
// try again. A completed run that left no check at all gets one, so the
// failure is seen. They are recorded as not completed for the run, so that
// a re-run (same run id) or a redelivery is processed again.
func (p *Processor) GiveUp(ctx context.Context, log *slog.Logger, d store.Delivery, cause error) error {
	if d.Event != "workflow_run" {
		return nil
	}
	var ev github.WorkflowRunEvent
	if err := json.Unmarshal(d.Payload, &ev); err != nil || ev.GetWorkflowRun() == nil || ev.GetRepo() == nil {
		return nil // nothing was started for a delivery that cannot be read
	}
	existing, err := p.store.ListCheckRuns(ctx, ev.GetRepo().GetID(), ev.GetWorkflowRun().GetHeadSHA())
	if err != nil {
		return err
	}
	var keys []string
	for _, c := range existing {
		if c.RunID == 0 { // in progress (see post)
			keys = append(keys, c.BuildKey)
		}
	}
	if len(existing) == 0 && ev.GetAction() == "completed" {
		keys = append(keys, "")
	}
	if len(keys) == 0 {
		return nil
	}
	cl, err := p.clients.Client(ctx, ev.GetInstallation().GetID())
	if err != nil {
		return err
	}
	// The attempt that gave up may have just met a rate limit, which
	// go-github would apply to this write too, without sending it.
	j := &job{gh: apiOf(unblocked(cl)), log: log, repo: ev.GetRepo(), run: ev.GetWorkflowRun(), attempts: d.Attempts}
	out := output{Title: "stageline could not finish this check",
		Summary: fmt.Sprintf("stageline gave up on workflow run %d after %d attempts: %s.\n\n"+
			"Re-run the workflow to try again.", j.run.GetID(), d.Attempts, render.Text(publicReason(cause), 300))}
	for _, key := range keys {
		if _, err := p.post(ctx, j, key, "neutral", out, nil); err != nil {
			return err
		}
		c, err := p.store.GetCheckRun(ctx, j.repo.GetID(), j.sha(), key)
		if err != nil {
			return err
		}
		if c == nil {
			continue
		}
		if c.RunID != 0 {
			c.RunID = 0
			if err := p.store.PutCheckRun(ctx, *c); err != nil {
				return err
			}
		}
		log.Warn("check completed as neutral after giving up", "build_key", key, "check_run", c.CheckRunID)
	}
	return nil
}

// signedQuery matches the query of a URL: artifact download URLs carry
// their signature there.
var signedQuery = regexp.MustCompile(`(https?://[^\s?"']+)\?[^\s"']*`)

// publicReason is err's message as it may be shown in a check: without
// URL queries (signatures); go-github's " []" (no error details) is left out.
func publicReason(err error) string {
	return strings.ReplaceAll(signedQuery.ReplaceAllString(err.Error(), "$1?…"), " []", "")
}
