package support

import "strings"

// recommendation says what a cross-sell action recommends, from the params
// the rule computed (docs/rules.md, "Complementary cross-sell"): skus, the
// SKUs recommended, best first, and complement_of, the product bought.
// Actions without both get "": other rules pass SKUs too (a cart reminder
// the cart's), which are no recommendation.
func recommendation(params map[string]any) string {
	of, _ := params["complement_of"].(string)
	if of == "" {
		return ""
	}
	var skus []string
	switch v := params["skus"].(type) {
	case []any: // as stored, and as the rules plan it
		for _, x := range v {
			if s, ok := x.(string); ok && s != "" {
				skus = append(skus, s)
			}
		}
	case []string:
		skus = v
	}
	if len(skus) == 0 {
		return ""
	}
	return ": recommends " + sentenceList(skus) + " to go with " + of
}

// sentenceList joins names the way a sentence does: "A", "A and B", "A, B and C".
func sentenceList(names []string) string {
	if len(names) == 1 {
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}
