#!/bin/sh
# A test runner's output, colours included, then a failure.
printf 'running 3 tests\n\033[32mok\033[0m   webshop/cart      2.71s\n'
printf '\033[31m--- FAIL: TestCheckoutTotals (0.02s)\033[0m\n    checkout_test.go:88: total = 41.99, want 42.00\n'
printf '\033[1;31mFAIL\033[0m webshop/checkout 5.12s\n'
exit 1
