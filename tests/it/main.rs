
mod fakes;
mod providers;
