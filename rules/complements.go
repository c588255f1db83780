package rules

import (
	"fmt"
	"slices"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"

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
	boxed := func(l []string) []any {
		out := make([]any, len(l))
		for i, sku := range l {
			out[i] = sku
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
		if s.productComplements == nil {
			s.productComplements = map[string][]any{}
		}
		s.productComplements[sku] = boxed(prod.Complements)
	}
	for name, cs := range f.Categories {
		if cs == nil {
			continue
		}
		if l := list(cs.Complements, "categories."+name, ""); len(l) > 0 {
			if s.categoryComplements == nil {
				s.categoryComplements = map[string][]any{}
			}
			s.categoryComplements[name] = boxed(l)
		}
	}
}

// ownership answers, for one evaluation, what the customer owns. The
// profile keeps its SKUs sorted (journey.Build), so a lookup is a binary
// search; anything else is indexed once, on first use.
type ownership struct {
	s       *Set
	p       *models.Profile
	checked bool
	skus    map[string]bool // only for SKUs out of order
	cats    map[string]bool
}

// ownershipEnv sets up complements and customer.bought*, where the file
// uses them: each is a closure, and most files never call them.
func (s *Set) ownershipEnv(b *envBlock, p *models.Profile) {
	if !s.usesOwnership {
		return
	}
	b.owned = ownership{s: s, p: p}
	b.customer.Bought = b.owned.bought
	b.customer.BoughtCategory = b.owned.boughtCategory
	b.env.Complements = b.owned.complements
}

// bought counts every SKU of the customer's orders, returned ones included
// (they had the product), cancelled and test orders not: journey.Build
// leaves those out of the profile.
func (o *ownership) bought(sku string) bool {
	if !o.checked {
		o.checked = true
		if !slices.IsSorted(o.p.SKUs) {
			o.skus = make(map[string]bool, len(o.p.SKUs))
			for _, s := range o.p.SKUs {
				o.skus[s] = true
			}
		}
	}
	if o.skus != nil {
		return o.skus[sku]
	}
	_, found := slices.BinarySearch(o.p.SKUs, sku)
	return found
}

// boughtCategory counts the categories of the lines bought and of their
// catalog entries.
func (o *ownership) boughtCategory(category string) bool {
	if o.cats == nil {
		o.cats = make(map[string]bool, len(o.p.Categories))
		for _, c := range o.p.Categories {
			o.cats[c] = true
		}
		for _, sku := range o.p.SKUs {
			if prod, ok := o.s.Catalog[sku]; ok && prod.Category != "" {
				o.cats[prod.Category] = true
			}
		}
	}
	return o.cats[category]
}

// complements lists what goes with x (an item or a SKU): the product's own
// complements, then its category's, without the product itself, anything
// the customer bought, anything of a category they opted out of, and
// duplicates. Never nil, so that a computed param is [] rather than null.
// The SKUs come boxed from the set, so that the list costs one allocation;
// a wrong argument panics, which the VM reports as the rule's error.
func (o *ownership) complements(x any) []any {
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
		panic(fmt.Errorf("complements: expected an item or a SKU, got %T", x))
	}
	if prod, ok := o.s.Catalog[sku]; ok && prod.Category != "" {
		category = prod.Category
	}
	out := []any{}
	for _, list := range [2][]any{o.s.productComplements[sku], o.s.categoryComplements[category]} {
		for _, v := range list {
			c := v.(string)
			if c == sku || slices.Contains(out, v) || o.bought(c) || o.p.OptedOut(o.s.Catalog[c].Category) {
				continue
			}
			out = append(out, v)
		}
	}
	return out
}

// ownershipVisitor notes whether an expression can reach complements or
// customer.bought*: by name, or as a member (customer.bought,
// $env["complements"]); a false alarm (catalog[sku].complements) only
// costs the closures.
type ownershipVisitor struct{ used *bool }

func (v ownershipVisitor) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		*v.used = *v.used || n.Value == "complements"
	case *ast.MemberNode:
		if p, ok := n.Property.(*ast.StringNode); ok {
			*v.used = *v.used || p.Value == "complements" || p.Value == "bought" || p.Value == "bought_category"
		}
	}
}

func (c *compiler) ownershipOption() expr.Option {
	return expr.Patch(ownershipVisitor{&c.set.usesOwnership})
}
