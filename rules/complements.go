package rules

import (
	"fmt"
	"slices"

	"github.com/treue/treue/models"
	"github.com/treue/treue/nearest"
)

// Complementary cross-sell. The catalog says which products go with a
// product (catalog.<sku>.complements, best first) and with a whole category
// (categories.<name>.complements); complements(item) is that list less what
// the customer already has and what they do not want to hear about, and
// customer.bought / customer.bought_category ask the order history.

type categorySpec struct {
	Pos
	Complements []text `yaml:"complements"`
}

// complements checks the complement lists and stores them in the catalog and
// the set. A complement must be in the catalog: only its catalog entry tells
// which category it belongs to, and an opted-out category must never be
// recommended.
func (c *compiler) complements(f *fileSpec) {
	s := c.set
	var skus []string // for suggestions, built when a SKU is unknown
	known := func() []string {
		if skus == nil {
			skus = make([]string, 0, len(s.Catalog))
			for sku := range s.Catalog {
				skus = append(skus, sku)
			}
			slices.Sort(skus)
		}
		return skus
	}
	list := func(items []text, where, self string) []string {
		out := make([]string, 0, len(items))
		for _, t := range items {
			_, inCatalog := s.Catalog[t.Value]
			switch {
			case t.Value == "":
				c.errorf(t.Pos, "%s.complements: expected a SKU, got an empty value", where)
			case t.Value == self:
				c.errorf(t.Pos, "%s.complements: a product cannot complement itself", where)
			case !inCatalog:
				hint := ""
				if best, dist := nearest.Name(t.Value, known()); best != "" && dist < 3 {
					hint = fmt.Sprintf(" (did you mean %q?)", best)
				}
				c.errorf(t.Pos, "%s.complements: unknown SKU %q%s: a complement needs a catalog entry, whose category decides opt-outs", where, t.Value, hint)
			case slices.Contains(out, t.Value):
				c.errorf(t.Pos, "%s.complements: %q is listed twice", where, t.Value)
			default:
				out = append(out, t.Value)
			}
		}
		return out
	}
	for sku, p := range f.Catalog {
		if p == nil || len(p.Complements) == 0 {
			continue
		}
		prod := s.Catalog[sku]
		prod.Complements = list(p.Complements, "catalog."+sku, sku)
		s.Catalog[sku] = prod
	}
	for name, cs := range f.Categories {
		if cs == nil {
			continue
		}
		if l := list(cs.Complements, "categories."+name, ""); len(l) > 0 {
			if s.categoryComplements == nil {
				s.categoryComplements = map[string][]string{}
			}
			s.categoryComplements[name] = l
		}
	}
}

// ownership answers, for one evaluation, what the customer owns. Its sets
// are built on first use: most evaluations never ask.
type ownership struct {
	s    *Set
	p    *models.Profile
	skus map[string]bool
	cats map[string]bool
}

func (s *Set) ownershipEnv(b *envBlock, p *models.Profile) {
	b.owned = ownership{s: s, p: p}
	b.customer.Bought = b.owned.bought
	b.customer.BoughtCategory = b.owned.boughtCategory
	b.env.Complements = b.owned.complements
}

// build collects what the profile says the customer bought: every SKU of
// their orders, returned ones included (they had the product), cancelled and
// test orders not (journey.Build leaves those out), and the categories of
// those lines and of their catalog entries.
func (o *ownership) build() {
	if o.skus != nil {
		return
	}
	o.skus = make(map[string]bool, len(o.p.SKUs))
	o.cats = make(map[string]bool, len(o.p.Categories))
	for _, c := range o.p.Categories {
		o.cats[c] = true
	}
	for _, sku := range o.p.SKUs {
		o.skus[sku] = true
		if prod, ok := o.s.Catalog[sku]; ok && prod.Category != "" {
			o.cats[prod.Category] = true
		}
	}
}

func (o *ownership) bought(sku string) bool {
	o.build()
	return o.skus[sku]
}

func (o *ownership) boughtCategory(category string) bool {
	o.build()
	return o.cats[category]
}

// complements lists what goes with x (an item or a SKU): the product's own
// complements, then its category's, without the product itself, anything
// the customer bought, anything of a category they opted out of, and
// duplicates. Never nil, so that a computed param is [] rather than null.
func (o *ownership) complements(x any) ([]string, error) {
	var sku, category string
	switch v := x.(type) {
	case *ItemEnv:
		if v != nil {
			sku, category = v.SKU, v.Category
		}
	case ItemEnv:
		sku, category = v.SKU, v.Category
	case string:
		sku = v
	default:
		return nil, fmt.Errorf("complements: expected an item or a SKU, got %T", x)
	}
	prod := o.s.Catalog[sku]
	if prod.Category != "" {
		category = prod.Category
	}
	o.build()
	out := []string{}
	for _, list := range [][]string{prod.Complements, o.s.categoryComplements[category]} {
		for _, c := range list {
			if c == sku || o.skus[c] || slices.Contains(out, c) || o.p.OptedOut(o.s.Catalog[c].Category) {
				continue
			}
			out = append(out, c)
		}
	}
	return out, nil
}
