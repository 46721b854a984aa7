package sqlite

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/actionvector/tasks/store"
)

// Timestamps are stored as one fixed-width UTC text format with
// microseconds, so text order is time order and values round-trip exactly.
const (
	timestampLayout = "2006-01-02T15:04:05.000000Z"
	dateLayout      = "2006-01-02"
)

func formatTimestamp(t time.Time) string {
	return t.UTC().Truncate(time.Microsecond).Format(timestampLayout)
}

func parseTimestamp(s string) (time.Time, error) {
	t, err := time.Parse(timestampLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: bad timestamp %q in database: %w", s, err)
	}
	return t, nil
}

func formatDate(t time.Time) string { return store.DateOf(t).Format(dateLayout) }

func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: bad date %q in database: %w", s, err)
	}
	return t, nil
}

// appendArray appends items as a JSON array, each by appendItem.
func appendArray[T any](dst []byte, items []T, appendItem func([]byte, T) []byte) []byte {
	dst = append(dst, '[')
	for i, item := range items {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendItem(dst, item)
	}
	return append(dst, ']')
}

// appendPairs appends pairs as a JSON array of [shop, variant] arrays, the
// input of json_each.
func appendPairs(dst []byte, pairs []store.Pair) []byte {
	return appendArray(dst, pairs, func(dst []byte, p store.Pair) []byte {
		return appendJSONStrings(dst, []string{p.ShopID, p.VariantID})
	})
}

// appendJSONStrings appends ss as a JSON array of strings.
func appendJSONStrings[S ~string](dst []byte, ss []S) []byte {
	return appendArray(dst, ss, func(dst []byte, s S) []byte { return appendJSONString(dst, string(s)) })
}

// appendJSONString appends s as a JSON string. Identifiers are validated
// UTF-8 without control characters, but everything JSON requires is escaped
// anyway; invalid UTF-8 becomes U+FFFD as encoding/json does.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"', '\\':
			dst = append(dst, '\\', c)
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSONFloat appends *f, or null.
func appendJSONFloat(dst []byte, f *float64) []byte {
	if f == nil {
		return append(dst, "null"...)
	}
	return strconv.AppendFloat(dst, *f, 'g', -1, 64)
}

// appendJSONInt appends *n, or null.
func appendJSONInt(dst []byte, n *int) []byte {
	if n == nil {
		return append(dst, "null"...)
	}
	return strconv.AppendInt(dst, int64(*n), 10)
}
