package loadtest

import (
	"strings"
)

// The words the generated messages are made of (B5's message-text
// search). Each message is one of the conversational lines (chatsdata.go)
// followed by two to eight words drawn from chatsWords with a steep skew
// toward the front of the list (the index is ⌊N·u³⌋ for a uniform u), so
// the first words are in about half the messages, those in the middle in
// a few percent, and the last ones in about 0.4 % each: common, middling
// and uncommon terms all exist. Truly rare terms are planted: "zucchini"
// in every 100,000th message (10 of 1,000,000), and an order number in
// every 50th message (20,000 numbers, so each in one message or two).
var chatsWords = strings.Fields(`
	the you to and a is for we of your it in on can please thanks be at
	this have will with are today tomorrow appointment time call back
	me my our here just now when what there do need know office reply
	ok yes no morning afternoon evening week day next let get see new
	order delivery payment invoice receipt account booking visit help
	confirm confirmed reminder schedule change cancel change update
	address phone email number question questions details available open
	closed hours price quote estimate form sign document copy paper
	card insurance doctor clinic room floor building parking entrance
	door desk front staff team manager service support issue problem
	refund credit balance due date late early minute minutes hour soon
	later again still also only more less first last before after since
	message text note info information list plan option options status
	pickup dropoff package parcel shipment tracking courier warehouse
	store branch location downtown north south east west street avenue
	monday tuesday wednesday thursday friday saturday sunday weekend
	january february march april june july august september october
	november december holiday vacation closure weather snow rain storm
	prescription refill pharmacy medication dosage allergy checkup
	dentist cleaning xray filling crown braces whitening hygienist
	lawn mowing hedge trimming gutter roofing plumbing leak faucet boiler
	furnace thermostat ventilation chimney drywall tiling grout caulking
	puppy kitten grooming vaccination leash kennel boarding adoption
	tuition enrollment semester transcript syllabus tutoring homework
	mortgage escrow appraisal closing notary deed lease tenant landlord
	warranty serial firmware charger adapter bluetooth router modem
	bicycle scooter tire brake chain helmet saddle pedal spoke derailleur
	violin cello oboe clarinet bassoon trombone harpsichord metronome
	sourdough croissant baguette brioche focaccia ciabatta pretzel bagel
	quinoa lentil chickpea tahini hummus falafel couscous bulgur
	kayak canoe paddle lifejacket snorkel wetsuit flippers buoy
	telescope binoculars tripod lens aperture shutter tripods gimbal
	origami calligraphy embroidery crochet knitting quilting macrame
	saffron cardamom turmeric sumac fenugreek asafoetida galangal
	aardvark axolotl okapi pangolin quokka narwhal tapir wombat
`)
