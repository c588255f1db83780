package process

import (
	"encoding/json"
	"fmt"

	"github.com/treue/treue/models"
)

func eventData(e models.Event) (string, error) {
	b, err := json.Marshal(e.Data)
	if err != nil {
		return "", fmt.Errorf("encode event: %w", err)
	}
	return string(b), nil
}
