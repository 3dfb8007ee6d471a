package webhook

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"time"

	"github.com/google/go-github/v66/github"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"github.com/stageline/stageline/internal/store"
)

// DefaultMaxBodyBytes caps a delivery's body. GitHub caps payloads at
// 25 MB; the events the App handles are far smaller, and a cap well below
// GitHub's keeps a flood of large bodies from filling the database.
const DefaultMaxBodyBytes = 1 << 20

// DefaultInFlightBodies is how many maximal bodies may be held at once by
// default: InFlightBytes defaults to this many times MaxBodyBytes.
const DefaultInFlightBodies = 16

// DefaultStoreTimeout bounds storing one delivery. GitHub gives up on a
// delivery after 10 s; the answer must leave well before that.
const DefaultStoreTimeout = 5 * time.Second

// RetryAfter is the Retry-After sent with a 503: intake is saturated or the
// database cannot take the delivery now.
const RetryAfter = "10"

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
	// InFlightBytes caps the bytes of the bodies being read and stored at
	// once, each counted at its Content-Length (MaxBodyBytes when it has
	// none); default DefaultInFlightBodies × MaxBodyBytes. A request that
	// cannot get its share within WaitTimeout is answered 503: a flood of
	// large bodies, signed or not, holds at most this much.
	InFlightBytes int64
	// WaitTimeout bounds the wait for that share; default 1 s.
	WaitTimeout time.Duration
	// StoreTimeout bounds storing a delivery; default DefaultStoreTimeout.
	// Past it the answer is 503 with Retry-After: GitHub must not wait on
	// a locked or unreachable database.
	StoreTimeout time.Duration
	// Logger defaults to a discarding logger.
	Logger *slog.Logger
	// Registerer receives the intake metrics; nil means none.
	Registerer prometheus.Registerer
	// Notify is called after a delivery is stored, to wake a worker.
	Notify func()
}

// Handler is the webhook endpoint.
type Handler struct {
	q            Queue
	events       map[string]map[string]bool // event → stored actions
	secret       []byte
	max          int64
	bytes        *semaphore.Weighted // bytes of bodies in flight
	wait         time.Duration
	storeTimeout time.Duration
	log          *slog.Logger
	notify       func()
	results      *prometheus.CounterVec
	latency      prometheus.Histogram
	inFlight     prometheus.Gauge
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
		q:            q,
		events:       make(map[string]map[string]bool, len(opts.Events)),
		secret:       opts.Secret,
		max:          cmp.Or(opts.MaxBodyBytes, DefaultMaxBodyBytes),
		wait:         cmp.Or(opts.WaitTimeout, time.Second),
		storeTimeout: cmp.Or(opts.StoreTimeout, DefaultStoreTimeout),
		log:          opts.Logger,
		notify:       opts.Notify,
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stageline_webhook_deliveries_total",
			Help: "Webhook deliveries received, by event and outcome.",
		}, []string{"event", "result"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "stageline_webhook_intake_seconds",
			Help:    "Time from request to answer for webhook deliveries.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, 1, 5},
		}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "stageline_webhook_body_bytes_in_flight",
			Help: "Bytes of webhook bodies being read or stored (their Content-Length).",
		}),
	}
	for event, actions := range opts.Events {
		h.events[event] = make(map[string]bool, len(actions))
		for _, a := range actions {
			h.events[event][a] = true
		}
	}
	if h.max < 0 {
		return nil, fmt.Errorf("webhook: MaxBodyBytes %d is negative", h.max)
	}
	inFlight := cmp.Or(opts.InFlightBytes, DefaultInFlightBodies*h.max)
	if inFlight < h.max {
		return nil, fmt.Errorf("webhook: InFlightBytes %d is below MaxBodyBytes %d: a maximal body could never be read", inFlight, h.max)
	}
	h.bytes = semaphore.NewWeighted(inFlight)
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.notify == nil {
		h.notify = func() {}
	}
	if opts.Registerer != nil {
		for _, c := range []prometheus.Collector{h.results, h.latency, h.inFlight} {
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
	CheckSuite *struct {
		HeadSHA string `json:"head_sha"`
	} `json:"check_suite"`
	Installation *struct {
		ID int64 `json:"id"`
	} `json:"installation"`
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	event := r.Header.Get(github.EventTypeHeader)
	code, result, msg := h.serve(w, r, event)
	if _, ok := h.events[event]; !ok && event != "ping" {
		event = "other" // bounded label values
	}
	h.results.WithLabelValues(event, result).Inc()
	h.latency.Observe(time.Since(start).Seconds())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if code == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", RetryAfter)
	}
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}

// serve checks what costs nothing first (method, headers, the signature's
// form, the declared size), then reads and authenticates the body within
// the in-flight byte budget, then stores it within StoreTimeout.
func (h *Handler) serve(w http.ResponseWriter, r *http.Request, event string) (code int, result, msg string) {
	if r.Method != http.MethodPost {
		return http.StatusMethodNotAllowed, "bad_method", "POST only"
	}
	id := r.Header.Get(github.DeliveryIDHeader)
	if err := cmp.Or(checkDeliveryID(id), checkEvent(event)); err != nil {
		// Neither header is logged: both are the sender's to choose.
		h.log.Warn("webhook refused: bad headers", "err", err)
		return http.StatusBadRequest, "bad_headers", err.Error()
	}
	log := h.log.With("delivery", id, "event", event)
	sum, err := parseSignature(r.Header.Get(github.SHA256SignatureHeader))
	if err != nil {
		log.Warn("webhook refused: bad signature header", "err", err)
		return http.StatusUnauthorized, "bad_signature", err.Error()
	}
	if mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt != "application/json" {
		return http.StatusBadRequest, "bad_content_type", "content type must be application/json"
	}
	if r.ContentLength > h.max {
		log.Warn("webhook body too large", "length", r.ContentLength, "limit", h.max)
		return http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body over %d bytes", h.max)
	}
	share := h.max
	if r.ContentLength >= 0 {
		share = max(r.ContentLength, 1)
	}
	wait, cancel := context.WithTimeout(r.Context(), h.wait)
	err = h.bytes.Acquire(wait, share)
	cancel()
	if err != nil {
		log.Warn("webhook refused: intake busy", "in_flight_limit_wait", h.wait)
		return http.StatusServiceUnavailable, "busy", "too many deliveries in flight; retry later"
	}
	h.inFlight.Add(float64(share))
	defer func() {
		h.inFlight.Sub(float64(share))
		h.bytes.Release(share)
	}()
	// Authenticate before looking at anything else the sender chose.
	body, err := readSigned(w, r, h.secret, sum, h.max)
	if err != nil {
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			log.Warn("webhook body too large", "limit", h.max)
			return http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body over %d bytes", h.max)
		case errors.Is(err, errSignature):
			log.Warn("webhook signature mismatch")
			return http.StatusUnauthorized, "bad_signature", "signature mismatch"
		}
		return http.StatusBadRequest, "bad_body", "cannot read body"
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
	d := store.Delivery{ID: id, Event: event, Action: action, Payload: body}
	if env.Repository != nil {
		switch {
		case env.WorkflowRun != nil && env.WorkflowRun.HeadSHA != "":
			d.SerialKey = fmt.Sprintf("%d/%s", env.Repository.ID, env.WorkflowRun.HeadSHA)
		case env.CheckRun != nil && env.CheckRun.HeadSHA != "":
			d.SerialKey = fmt.Sprintf("%d/%s", env.Repository.ID, env.CheckRun.HeadSHA)
		case env.CheckSuite != nil && env.CheckSuite.HeadSHA != "":
			d.SerialKey = fmt.Sprintf("%d/%s", env.Repository.ID, env.CheckSuite.HeadSHA)
		}
	}
	// The store gets a deadline of its own: a locked or unreachable
	// database must cost GitHub a 503 it can retry, not a request that
	// outlives the server's write timeout and gets no answer at all.
	ctx, cancel := context.WithTimeout(r.Context(), h.storeTimeout)
	defer cancel()
	inserted, err := h.q.Enqueue(ctx, d)
	if err != nil {
		log.Error("store delivery", "err", err)
		return http.StatusServiceUnavailable, "store_error", "cannot store delivery now; retry later"
	}
	if !inserted {
		log.Info("duplicate delivery ignored")
		return http.StatusAccepted, "duplicate", "duplicate delivery"
	}
	log.Info("delivery stored", "action", action)
	h.notify()
	return http.StatusAccepted, "accepted", "accepted"
}
