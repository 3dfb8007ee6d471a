package githubfake

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"
)

// Offer sends total signed deliveries of event to url at rate a second
// from senders concurrent senders, as GitHub does under load, each with an
// id from nextID. It returns each delivery's answer time, sorted (a failed
// request is reported to t and counts as 0), and how long the offer took
// until the last answer.
func Offer(t testing.TB, url, event string, body, secret []byte, rate, total, senders int, nextID func() string) ([]time.Duration, time.Duration) {
	lat := make([]time.Duration, total)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for i := range jobs {
				req := NewDelivery(context.Background(), url, event, nextID(), body, secret)
				start := time.Now()
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Error(err)
					continue
				}
				resp.Body.Close()
				lat[i] = time.Since(start)
			}
		})
	}
	tick := time.NewTicker(time.Second / time.Duration(rate))
	start := time.Now()
	for i := range total {
		<-tick.C
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	tick.Stop()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return lat, elapsed
}
