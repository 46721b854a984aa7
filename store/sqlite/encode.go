package sqlite

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/actionvector/tasks/taskcreate"
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

func formatDate(t time.Time) string { return taskcreate.DateOf(t).Format(dateLayout) }

func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(dateLayout, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("sqlite: bad date %q in database: %w", s, err)
	}
	return t, nil
}

// appendPairs appends pairs as a JSON array of [shop, variant] arrays, the
// input of json_each.
func appendPairs(dst []byte, pairs []taskcreate.Pair) []byte {
	dst = append(dst, '[')
	for i, p := range pairs {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, '[')
		dst = appendJSONString(dst, p.ShopID)
		dst = append(dst, ',')
		dst = appendJSONString(dst, p.VariantID)
		dst = append(dst, ']')
	}
	return append(dst, ']')
}

// appendJSONStrings appends ss as a JSON array of strings.
func appendJSONStrings[S ~string](dst []byte, ss []S) []byte {
	dst = append(dst, '[')
	for i, s := range ss {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendJSONString(dst, string(s))
	}
	return append(dst, ']')
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
