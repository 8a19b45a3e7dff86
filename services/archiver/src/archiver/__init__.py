"""archiver: copies each finished video into the product's media store, checks it, makes its poster."""
