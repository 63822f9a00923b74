package smithygen

import (
	"encoding/json"
	"html"
	"regexp"
	"strings"
	"unicode/utf8"
)

var (
	tagRE   = regexp.MustCompile(`<[^>]*>`)
	spaceRE = regexp.MustCompile(`\s+`)
)

const maxDocLen = 150

// firstSentence returns the first sentence of a Smithy documentation trait:
// HTML tags stripped, entities decoded, white space collapsed, and cut to
// maxDocLen characters.
func firstSentence(t traits) string {
	raw, ok := t["smithy.api#documentation"]
	if !ok {
		return ""
	}
	var doc string
	if json.Unmarshal(raw, &doc) != nil {
		return ""
	}
	return sentence(doc)
}

func sentence(doc string) string {
	doc = cleanText(doc)
	if i := strings.Index(doc, ". "); i >= 0 {
		doc = doc[:i+1]
	}
	return cut(doc)
}

// cleanText strips HTML and control characters and collapses white space.
func cleanText(doc string) string {
	doc = tagRE.ReplaceAllString(doc, " ")
	doc = html.UnescapeString(doc)
	doc = strings.TrimSpace(spaceRE.ReplaceAllString(doc, " "))
	// Keep comments free of characters that read badly in Go source.
	doc = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, doc)
	return doc
}

// cut shortens doc to maxDocLen characters, at a word boundary.
func cut(doc string) string {
	if utf8.RuneCountInString(doc) > maxDocLen {
		rs := []rune(doc)[:maxDocLen]
		cut := string(rs)
		if j := strings.LastIndexByte(cut, ' '); j > maxDocLen/2 {
			cut = cut[:j]
		}
		doc = strings.TrimRight(cut, " ,;:") + "..."
	}
	return doc
}

func jsonUnmarshal(raw []byte, v any) error { return json.Unmarshal(raw, v) }
