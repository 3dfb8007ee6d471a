package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/google/go-github/v66/github"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stageline/stageline/internal/store"
)

// DefaultMaxBodyBytes caps a delivery's body. GitHub caps payloads at
// 25 MB; the events the App handles are far smaller, and a cap well below
// GitHub's keeps a flood of large bodies from filling the database.
const DefaultMaxBodyBytes = 1 << 20

// Queue stores deliveries; *store.Store implements it.
type Queue interface {
	Enqueue(ctx context.Context, d store.Delivery) (bool, error)
}

// Options configure a Handler.
type Options struct {
	// Events lists the events stored for processing, each with the actions
	// stored; everything else is answered 202 and dropped. Required: the
	// processor's own list (checks.Handled), so that intake and processing
	// cannot disagree.
	Events map[string][]string
	// Secret is the App's webhook secret. Required: go-github accepts
	// unsigned payloads when it is empty, so New refuses that.
	Secret []byte
	// MaxBodyBytes caps the body; default DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Logger defaults to a discarding logger.
	Logger *slog.Logger
	// Registerer receives the intake metrics; nil means none.
	Registerer prometheus.Registerer
	// Notify is called after a delivery is stored, to wake a worker.
	Notify func()
}

// Handler is the webhook endpoint.
type Handler struct {
	q       Queue
	events  map[string]map[string]bool // event → stored actions
	secret  []byte
	max     int64
	log     *slog.Logger
	notify  func()
	results *prometheus.CounterVec
	latency prometheus.Histogram
}

// ErrNoSecret is returned by New without a webhook secret.
var ErrNoSecret = errors.New("webhook: a non-empty secret is required")

// errNoEvents is returned by New without a list of events.
var errNoEvents = errors.New("webhook: Options.Events is empty; pass the processor's list (checks.Handled)")

// New returns a Handler that stores accepted deliveries in q.
func New(q Queue, opts Options) (*Handler, error) {
	if len(opts.Secret) == 0 {
		return nil, ErrNoSecret
	}
	if len(opts.Events) == 0 {
		return nil, errNoEvents
	}
	h := &Handler{
		q:      q,
		events: make(map[string]map[string]bool, len(opts.Events)),
		secret: opts.Secret,
		max:    opts.MaxBodyBytes,
		log:    opts.Logger,
		notify: opts.Notify,
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stageline_webhook_deliveries_total",
			Help: "Webhook deliveries received, by event and outcome.",
		}, []string{"event", "result"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "stageline_webhook_intake_seconds",
			Help:    "Time from request to answer for webhook deliveries.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, 1, 5},
		}),
	}
	for event, actions := range opts.Events {
		h.events[event] = make(map[string]bool, len(actions))
		for _, a := range actions {
			h.events[event][a] = true
		}
	}
	if h.max <= 0 {
		h.max = DefaultMaxBodyBytes
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.notify == nil {
		h.notify = func() {}
	}
	if opts.Registerer != nil {
		for _, c := range []prometheus.Collector{h.results, h.latency} {
			if err := opts.Registerer.Register(c); err != nil {
				return nil, fmt.Errorf("register webhook metrics: %w", err)
			}
		}
	}
	return h, nil
}

// envelope holds the few fields intake needs: the action, and what decides
// which deliveries must not be processed at the same time.
type envelope struct {
	Action     *string `json:"action"`
	Repository *struct {
		ID int64 `json:"id"`
	} `json:"repository"`
	WorkflowRun *struct {
		HeadSHA string `json:"head_sha"`
	} `json:"workflow_run"`
	CheckRun *struct {
		HeadSHA string `json:"head_sha"`
	} `json:"check_run"`
	Installation *struct {
		ID int64 `json:"id"`
	} `json:"installation"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	event := r.Header.Get(github.EventTypeHeader)
	code, result, msg := h.serve(r, event)
	if _, ok := h.events[event]; !ok && event != "ping" {
		event = "other" // bounded label values
	}
	h.results.WithLabelValues(event, result).Inc()
	h.latency.Observe(time.Since(start).Seconds())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}

func (h *Handler) serve(r *http.Request, event string) (code int, result, msg string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "bad_method", "POST only"
	}
	id := r.Header.Get(github.DeliveryIDHeader)
	log := h.log.With("delivery", id, "event", event)
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, h.max))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			log.Warn("webhook body too large", "limit", h.max)
			return http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body over %d bytes", h.max)
		}
		return http.StatusBadRequest, "bad_body", "cannot read body"
	}
	// Authenticate before looking at anything else the sender chose.
	sig := r.Header.Get(github.SHA256SignatureHeader)
	if !strings.HasPrefix(sig, "sha256=") {
		log.Warn("webhook without sha256 signature")
		return http.StatusUnauthorized, "bad_signature", "missing X-Hub-Signature-256"
	}
	// ValidateSignature compares with hmac.Equal: constant time.
	if err := github.ValidateSignature(sig, body, h.secret); err != nil {
		log.Warn("webhook signature mismatch")
		return http.StatusUnauthorized, "bad_signature", "signature mismatch"
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return http.StatusBadRequest, "bad_content_type", "content type must be application/json"
	}
	if id == "" || event == "" {
		return http.StatusBadRequest, "bad_headers", "missing X-GitHub-Delivery or X-GitHub-Event"
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		log.Warn("malformed webhook body", "err", err)
		return http.StatusBadRequest, "malformed", "malformed JSON"
	}
	if event == "ping" {
		return http.StatusOK, "ping", "pong"
	}
	actions, ok := h.events[event]
	if !ok {
		return http.StatusAccepted, "ignored", "event ignored"
	}
	action := ""
	if env.Action != nil {
		action = *env.Action
	}
	if !actions[action] {
		return http.StatusAccepted, "ignored", "action ignored"
	}
	if env.Installation == nil || env.Installation.ID == 0 {
		return http.StatusBadRequest, "malformed", "payload has no installation"
	}
	d := store.Delivery{ID: id, Event: event, Payload: body, ReceivedAt: time.Now()}
	if env.Repository != nil {
		switch {
		case env.WorkflowRun != nil && env.WorkflowRun.HeadSHA != "":
			d.SerialKey = fmt.Sprintf("%d/%s", env.Repository.ID, env.WorkflowRun.HeadSHA)
		case env.CheckRun != nil && env.CheckRun.HeadSHA != "":
			d.SerialKey = fmt.Sprintf("%d/%s", env.Repository.ID, env.CheckRun.HeadSHA)
		}
	}
	inserted, err := h.q.Enqueue(r.Context(), d)
	if err != nil {
		log.Error("store delivery", "err", err)
		return http.StatusServiceUnavailable, "store_error", "cannot store delivery"
	}
	if !inserted {
		log.Info("duplicate delivery ignored")
		return http.StatusAccepted, "duplicate", "duplicate delivery"
	}
	log.Info("delivery stored", "action", action)
	h.notify()
	return http.StatusAccepted, "accepted", "accepted"
}
