package units

import (
	"math"
	"strconv"
	"time"
)

// Minus is U+2212: it lines up with "+" in proportional fonts, where a
// hyphen looks like a dash.
const Minus = "−"

// Duration writes d rounded for reading: "0 ms", "850 ms" under a second,
// "3.2 s" under ten seconds, "42 s" under a minute, "1 min 12 s" under an
// hour, "1 h 4 min" above. Rounding happens before the unit is chosen, so
// 59.6 s is "1 min", never "60 s". A negative d gets the minus sign.
func Duration(d time.Duration) string { return string(AppendDuration(nil, d)) }

// AppendDuration appends Duration(d) to dst: the dashboard writes one per
// build and stage without a string of its own.
func AppendDuration(dst []byte, d time.Duration) []byte {
	if d < 0 {
		dst = append(dst, Minus...)
		if d == math.MinInt64 {
			d++
		}
		d = -d
	}
	switch {
	case d < 999500*time.Microsecond:
		return append(strconv.AppendInt(dst, d.Round(time.Millisecond).Milliseconds(), 10), " ms"...)
	case d < 9950*time.Millisecond:
		tenths := int64(d.Round(100*time.Millisecond) / (100 * time.Millisecond))
		dst = strconv.AppendInt(dst, tenths/10, 10)
		if tenths%10 != 0 {
			dst = append(dst, '.', byte('0'+tenths%10))
		}
		return append(dst, " s"...)
	case d < 59500*time.Millisecond:
		return append(strconv.AppendInt(dst, int64(d.Round(time.Second)/time.Second), 10), " s"...)
	case d < time.Hour-500*time.Millisecond:
		s := int64(d.Round(time.Second) / time.Second)
		dst = append(strconv.AppendInt(dst, s/60, 10), " min"...)
		if s%60 != 0 {
			dst = append(append(append(dst, ' '), strconv.Itoa(int(s%60))...), " s"...)
		}
		return dst
	}
	m := int64(d.Round(time.Minute) / time.Minute)
	dst = append(strconv.AppendInt(dst, m/60, 10), " h"...)
	if m%60 != 0 {
		dst = append(append(append(dst, ' '), strconv.Itoa(int(m%60))...), " min"...)
	}
	return dst
}

// Millis is Duration of a count of milliseconds, the unit reports store.
func Millis(ms int64) string { return Duration(time.Duration(ms) * time.Millisecond) }

// SignedDuration is Duration with a sign: "+8 s", "−850 ms", "±0 ms".
func SignedDuration(d time.Duration) string {
	switch {
	case d > 0:
		return "+" + Duration(d)
	case d < 0:
		return Duration(d)
	}
	return "±0 ms"
}

// Bytes writes n bytes in decimal units (1 kB = 1000 B) with one decimal:
// "512 B", "12.4 kB", "12.4 MB", "1.2 GB". Decimal because registries and
// `docker images` report sizes that way.
func Bytes(n int64) string { return string(AppendBytes(nil, n)) }

// AppendBytes appends Bytes(n) to dst.
func AppendBytes(dst []byte, n int64) []byte {
	if n < 0 {
		dst = append(dst, Minus...)
		if n == math.MinInt64 {
			n++
		}
		n = -n
	}
	if n < 1000 {
		return append(strconv.AppendInt(dst, n, 10), " B"...)
	}
	v := float64(n)
	names := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	for i, u := range names {
		v /= 1000
		// Move to the next unit when rounding would print "1000.0".
		if math.Round(v*10)/10 < 1000 || i == len(names)-1 {
			return append(append(strconv.AppendFloat(dst, v, 'f', 1, 64), ' '), u...)
		}
	}
	return dst // unreachable: the last unit always returns
}

// SignedBytes is Bytes with a sign: "+12.4 MB", "−3.0 kB", "±0 B".
func SignedBytes(n int64) string {
	switch {
	case n > 0:
		return "+" + Bytes(n)
	case n < 0:
		return Bytes(n)
	}
	return "±0 B"
}

// SignedPercent writes a relative change (0.041) with one decimal and a
// sign: "+4.1%", "−2.0%", "±0.0%".
func SignedPercent(ratio float64) string {
	v := math.Round(ratio*1000) / 10
	switch {
	case v > 0:
		return "+" + strconv.FormatFloat(v, 'f', 1, 64) + "%"
	case v < 0:
		return Minus + strconv.FormatFloat(-v, 'f', 1, 64) + "%"
	}
	return "±0.0%"
}

// Count writes n of a regular noun: "1 step", "2 steps", "0 files".
func Count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.Itoa(n) + " " + noun + "s"
}
