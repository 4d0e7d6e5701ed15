package models

import "testing"

func TestTextFrequency(t *testing.T) {
	words := []string{"park", "parking", "thanks", "the"}
	freq := map[string]float64{"park": 0.01, "parking": 0.04, "thanks": 0.2, "the": 0.5}
	for _, c := range []struct {
		q    string
		want float64
	}{
		{"thanks", 0.2},
		{"park", 0.05},         // a prefix: park and parking
		{`"park"`, 0.01},       // a whole word
		{"thanks the", 0.2},    // every word: the least
		{"thanks zucchini", 0}, // a word ANALYZE did not keep is rare
		{"", 0},
	} {
		_, terms := parseTextQuery(c.q)
		if got := textFrequency(words, freq, terms); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("%q: %v, want %v", c.q, got, c.want)
		}
	}
	if tsq, _ := parseTextQuery(`Free "front desk" it's 50%`); tsq != `'free':* & ('front' <-> 'desk') & 'it':* & 's':* & '50':*` {
		t.Errorf("tsquery %s", tsq)
	}
	// A vowel sign is part of its word, as PostgreSQL's parser reads it.
	if tsq, _ := parseTextQuery("नमस्ते"); tsq != `'नमस्ते':*` {
		t.Errorf("tsquery %s", tsq)
	}
}
