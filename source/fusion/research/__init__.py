"""Research fusion families, trained and tested on the combined model's paired windows."""
