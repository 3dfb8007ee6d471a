package webhook_test

import (
	"fmt"
	"sync/atomic"
)

type atomicCounter struct{ n atomic.Int64 }

func (c *atomicCounter) next() string { return fmt.Sprint("bench-", c.n.Add(1)) }
