package plugin

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/treue/treue/models"
)

// DecodeJSON unmarshals a webhook body (or a part of one) into v. Broken JSON
// is a *models.MalformedError whose message starts with platform ("shopify:
// …"); a well-formed body with a field of the wrong type is a
// *models.ValidationError naming that field.
func DecodeJSON(platform string, body []byte, v any) error {
	err := json.Unmarshal(body, v)
	if err == nil {
		return nil
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) && te.Field != "" {
		var ve models.ValidationError
		ve.Add(te.Field, "has the wrong JSON type (%s)", te.Value)
		return &ve
	}
	return &models.MalformedError{Err: fmt.Errorf("%s: %w", platform, err)}
}
