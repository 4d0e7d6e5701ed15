package models

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// Whether a search's words are common decides how it runs
// (listMessageMatches): a common word is found soonest by walking the
// organization's newest messages, a rare one by the index. ANALYZE keeps
// the most common words of messages.search (10 per unit of its statistics
// target, 10,000 here) with their frequencies; a word it did not keep is
// rarer than all of them. The list is read from pg_stats at most once per
// commonWordsTTL per process.
const commonWordsTTL = 5 * time.Minute

// commonWordCache holds the common words, sorted; its zero value is ready.
type commonWordCache struct {
	mu    sync.Mutex
	at    time.Time
	words []string
	freq  map[string]float64 // share of messages holding the word
}

// get returns the sorted common words and their frequencies, reading
// them again when stale.
func (c *commonWordCache) get(ctx context.Context, s *Store) ([]string, map[string]float64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && time.Since(c.at) < commonWordsTTL {
		return c.words, c.freq, nil
	}
	var words []string
	freq := map[string]float64{}
	rows, err := s.db.DB.QueryContext(ctx, `SELECT e.w, e.f
		FROM pg_stats AS s, unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) AS e(w, f)
		WHERE s.tablename = 'messages' AND s.attname = 'search' AND s.schemaname = current_schema() AND e.w IS NOT NULL`)
	if err != nil {
		return nil, nil, fmt.Errorf("common words: %w", err)
	}
	err = scanAll(rows, func() error {
		var w string
		var f float64
		if err := rows.Scan(&w, &f); err != nil {
			return err
		}
		words = append(words, w)
		freq[w] = f
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("common words: %w", err)
	}
	slices.Sort(words)
	c.words, c.freq, c.at = words, freq, time.Now()
	return words, freq, nil
}

// textFrequency estimates the share of messages holding every term: the
// least of the terms' shares (a prefix term: the sum over the common words
// it starts), 0 when a term is not common at all.
func textFrequency(words []string, freq map[string]float64, terms []textTerm) float64 {
	if len(terms) == 0 {
		return 0
	}
	least := 1.0
	for _, t := range terms {
		f := 0.0
		i, _ := slices.BinarySearch(words, t.Word)
		for ; i < len(words) && strings.HasPrefix(words[i], t.Word); i++ {
			if words[i] == t.Word || t.Prefix {
				f += freq[words[i]]
			}
		}
		least = min(least, f)
	}
	return least
}
