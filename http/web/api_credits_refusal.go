package web

import (
	"fmt"
	"net/http"

	"github.com/parley-chat/parley/models"
)

// insufficientCredits is the 402 problem of a send the location's credits
// do not cover (spec/api.md): the extension members balance (the credits
// available: the balance less sends already waiting) and needed (the
// message's price).
func insufficientCredits(ic *models.InsufficientCreditsError) error {
	balance, needed := ic.Available, ic.Needed
	return &apiError{Status: http.StatusPaymentRequired, Type: problemTypeBase + "insufficient-credits",
		Title: "Insufficient credits", Balance: &balance, Needed: &needed,
		Detail: fmt.Sprintf("Insufficient credits: the message needs %d and the balance is %d. An admin can buy credits.", needed, balance)}
}

// sendRefusals documents, on the routes that send, the problems a refused
// send answers: 402 for lack of credits, 422 for the plan, an opt-out or
// invalid input.
func sendRefusals() map[int]string {
	return map[int]string{
		http.StatusPaymentRequired: "Insufficient credits (type " + problemTypeBase + "insufficient-credits): " +
			"the location's credits do not cover the message; balance and needed say by how much",
		http.StatusUnprocessableEntity: "Refused: the location's plan is not active (type " + problemTypeBase + "plan-inactive), " +
			"the recipient opted out (" + problemTypeBase + "opted-out), or invalid input (" + problemTypeBase + "validation)",
	}
}
