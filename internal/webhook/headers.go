package webhook

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// maxDeliveryIDLen caps X-GitHub-Delivery. GitHub sends a UUID (36
// characters); the id is stored and put in every log line of the delivery,
// so a sender must not choose its size.
const maxDeliveryIDLen = 64

// maxEventLen caps X-GitHub-Event: GitHub's longest event name is under 40.
const maxEventLen = 64

// checkDeliveryID accepts what GitHub sends as X-GitHub-Delivery: a UUID,
// or any other short id of letters, digits, '-' and '_'.
func checkDeliveryID(id string) error {
	if id == "" {
		return errors.New("X-GitHub-Delivery is missing")
	}
	if len(id) > maxDeliveryIDLen {
		return fmt.Errorf("X-GitHub-Delivery is %d bytes; GitHub sends a UUID of 36", len(id))
	}
	for _, c := range []byte(id) {
		if !isAlnum(c) && c != '-' && c != '_' {
			return errors.New("X-GitHub-Delivery holds characters other than letters, digits, '-' and '_'; GitHub sends a UUID")
		}
	}
	return nil
}

// checkEvent accepts X-GitHub-Event names: lower-case letters and '_'.
func checkEvent(event string) error {
	if event == "" {
		return errors.New("X-GitHub-Event is missing")
	}
	if len(event) > maxEventLen || strings.Trim(event, "abcdefghijklmnopqrstuvwxyz_") != "" {
		return errors.New("X-GitHub-Event is not an event name (lower-case letters and '_')")
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// parseSignature decodes X-Hub-Signature-256 ("sha256=" and 64 hex
// digits), so a request without a well-formed signature is refused before
// its body is read.
func parseSignature(header string) ([]byte, error) {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok {
		return nil, errors.New("missing X-Hub-Signature-256 (set a secret on the webhook)")
	}
	if len(hexSum) != 64 {
		return nil, errors.New("X-Hub-Signature-256 is not sha256= and 64 hex digits")
	}
	sum, err := hex.DecodeString(hexSum)
	if err != nil {
		return nil, errors.New("X-Hub-Signature-256 is not sha256= and 64 hex digits")
	}
	return sum, nil
}
