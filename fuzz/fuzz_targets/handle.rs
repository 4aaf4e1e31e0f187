#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| shallot_tests::fuzz::handle(data));
