"""The seeds' own code as the reference for gankit's seed recipes.

Runs a seed's TensorFlow/Keras code as the seed writes it, on the MNIST gankit trains on, for a
number of steps, draws samples the way the seed draws them, and scores them with gankit's judge
(FID and classes covered, n=10,000, beside the real-vs-real floors). Prints one JSON line.

    pip install -e .[reference]      # tensorflow-cpu and keras, kept out of gankit's dependencies
    python bench/seed_reference.py --seed-doc 000 --steps 1000 --seed 0 --grid runs/seed-ref/tf-000-s0.png
    python bench/seed_reference.py --seed-doc 001 --steps 1000 --seed 0

--seed-doc 000 (or 002, the same notes): the lecture's DCGAN (000_eb9a6f1966f0c3dc.txt). Its
generator_model, discriminator_model, losses, optimisers and train_step are copied below as the
lecture writes them; only its typo ``tf.zeros_liks`` is fixed. Keras defaults everywhere
(glorot-uniform kernels, zero biases, BatchNormalization momentum 0.99 and epsilon 1e-3, Adam
epsilon 1e-7, LeakyReLU slope 0.3). The data is shuffled with a 60,000 buffer and batched by 256,
the last batch of an epoch holding 96 images, as the lecture's tf.data pipeline does. Samples are
``generator(noise, training=False)``, as generate_and_save_images and the latent-space sections draw
them.

--seed-doc 001: the notebook's Keras AC-GAN (001_885837f1aa895cae.txt, Keras' mnist_acgan
example): disc_cnn, gen_cnn, build_discriminator, build_generator, the combined model, train_disc,
train_gen, gen_disc_data, gen_img_pair and gen_class_targets as the notebook writes them. Keras 3
needs three changes that are not the notebook's choices: ``Adam(learning_rate=...)`` for the
removed ``lr=``, and the discriminator's train function built before ``trainable = False`` (Keras 3
reads the flag when a model is compiled, Keras 2 when its train function was first made).
Samples are ``generator.predict([noise, labels])`` with noise U(-1, 1) and labels cycling 0..9,
as gen_pic draws them.

--state DIR keeps the networks and optimisers between invocations, so a long run can be split
into pieces (``--steps`` is the total; each piece reseeds its streams with --seed and the step it
starts at). --no-eval skips the judge (for a piece that is not the last).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

MISSING_TF = ("bench/seed_reference.py needs TensorFlow and Keras, which gankit does not install: "
              "pip install -e .[reference]")


def mnist_as_the_seeds_load_it():
    """(x_train (60000, 28, 28) uint8, y_train (60000,) int) from gankit's MNIST: the arrays that
    ``tf.keras.datasets.mnist.load_data()`` returns, without a download."""
    import numpy as np
    import torch
    from gankit.data import load_dataset

    ds = load_dataset("mnist", split="train")  # float32 (N, 1, 28, 28) in [-1, 1], x / 127.5 - 1
    x = ((ds.x[:, 0].double() + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8)
    return x.numpy(), np.asarray(ds.y.numpy(), dtype=np.int64)


# ------------------------------------------------------------------------------------------------
# Seed 000/002: the lecture's DCGAN, as written


def lecture_dcgan(seed: int):
    import numpy as np
    import tensorflow as tf
    from tensorflow.keras import layers

    BUFFER_SIZE = 60000
    BATCH_SIZE = 256

    def load_training_dataset():
        (train_images, _labels) = mnist_as_the_seeds_load_it()
        train_images = np.reshape(train_images, (train_images.shape[0], 28, 28, 1)).astype('float32')
        # we normalize between -1 and 1
        train_images = (train_images - 127.5) / 127.5
        return tf.data.Dataset.from_tensor_slices(train_images).shuffle(BUFFER_SIZE).batch(BATCH_SIZE)

    def generator_model():
        model = tf.keras.Sequential()
        model.add(layers.Dense(units=7*7*BATCH_SIZE, use_bias=False, input_shape=(100, )))
        model.add(layers.BatchNormalization())
        model.add(layers.LeakyReLU())
        model.add(layers.Reshape((7, 7, BATCH_SIZE)))
        assert model.output_shape == (None, 7, 7, BATCH_SIZE)
        model.add(layers.Conv2DTranspose(filters=128, kernel_size=(5, 5), strides=(1, 1), padding='same',
                                         use_bias=False))
        model.add(layers.BatchNormalization())
        model.add(layers.LeakyReLU())
        assert model.output_shape == (None, 7, 7, 128)
        model.add(layers.Conv2DTranspose(filters=64, kernel_size=(5, 5), strides=(2, 2), padding='same',
                                         use_bias=False))
        model.add(layers.BatchNormalization())
        model.add(layers.LeakyReLU())
        assert model.output_shape == (None, 14, 14, 64)
        model.add(layers.Conv2DTranspose(filters=1, kernel_size=(5, 5), strides=(2, 2), padding='same',
                                         use_bias=False, activation='tanh'))
        assert model.output_shape == (None, 28, 28, 1)
        return model

    def discriminator_model():
        model = tf.keras.Sequential()
        model.add(layers.Conv2D(filters=64, kernel_size=(5, 5), strides=(2, 2), padding='same',
                                input_shape=[28, 28, 1]))
        model.add(layers.LeakyReLU())
        model.add(layers.Dropout(0.3))
        model.add(layers.Conv2D(filters=128, kernel_size=(5, 5), strides=(2, 2), padding='same'))
        model.add(layers.LeakyReLU())
        model.add(layers.Dropout(0.3))
        model.add(layers.Flatten())
        model.add(layers.Dense(1))
        return model

    tf.keras.utils.set_random_seed(seed)
    training_dataset = load_training_dataset()
    generator = generator_model()
    discriminator = discriminator_model()

    cross_entropy = tf.keras.losses.BinaryCrossentropy(from_logits=True)
    generator_optimizer = tf.keras.optimizers.Adam(1e-4)
    discriminator_optimizer = tf.keras.optimizers.Adam(1e-4)

    def generator_loss(fake_output):
        loss = cross_entropy(tf.ones_like(fake_output), fake_output)
        return loss

    def discriminator_loss(real_output, fake_output):
        real_loss = cross_entropy(tf.ones_like(real_output), real_output)
        fake_loss = cross_entropy(tf.zeros_like(fake_output), fake_output)  # the lecture: tf.zeros_liks
        total_loss = real_loss + fake_loss
        return total_loss

    noise_dimension = 100

    @tf.function
    def train_step(images):
        noise = tf.random.normal([BATCH_SIZE, noise_dimension])

        with tf.GradientTape() as gen_tape, tf.GradientTape() as disc_tape:
            generated_images = generator(noise, training=True)

            real_output = discriminator(images, training=True)
            fake_output = discriminator(generated_images, training=True)

            gen_loss = generator_loss(fake_output)
            disc_loss = discriminator_loss(real_output, fake_output)

        gradients_of_generator = gen_tape.gradient(gen_loss, generator.trainable_variables)
        gradients_of_discriminator = disc_tape.gradient(disc_loss, discriminator.trainable_variables)
        generator_optimizer.apply_gradients(zip(gradients_of_generator, generator.trainable_variables))
        discriminator_optimizer.apply_gradients(zip(gradients_of_discriminator,
                                                    discriminator.trainable_variables))
        return gen_loss, disc_loss

    def train(steps_from: int, steps_to: int) -> list:
        """The lecture's train(): epochs over the shuffled dataset, counted in steps."""
        losses, step = [], steps_from
        while step < steps_to:
            for image_batch in training_dataset:
                gen_loss, disc_loss = train_step(image_batch)
                losses.append((float(gen_loss), float(disc_loss)))
                step += 1
                if step >= steps_to:
                    break
        return losses

    def sample(n: int, sample_seed: int):
        """n images (n, 28, 28, 1) in [-1, 1], drawn as the lecture draws them: training=False."""
        g = tf.random.Generator.from_seed(sample_seed)
        out = []
        for i in range(0, n, 500):
            noise = g.normal([min(500, n - i), noise_dimension])
            out.append(generator(noise, training=False).numpy())
        return np.concatenate(out)

    # The optimisers' slots exist before a --state restore (apply_gradients would make the same ones).
    generator_optimizer.build(generator.trainable_variables)
    discriminator_optimizer.build(discriminator.trainable_variables)
    state = tf.train.Checkpoint(generator_optimizer=generator_optimizer,
                                discriminator_optimizer=discriminator_optimizer,
                                generator=generator, discriminator=discriminator)
    return train, sample, state


# ------------------------------------------------------------------------------------------------
# Seed 001: the notebook's Keras AC-GAN, as written


def notebook_acgan(seed: int):
    import numpy as np
    import tensorflow as tf
    import keras
    from keras.layers import (BatchNormalization, Conv2D, Conv2DTranspose, Dense, Dropout, Embedding, Flatten,
                              Input, LeakyReLU, Reshape, multiply)
    from keras.models import Model, Sequential
    from keras.optimizers import Adam

    keras.utils.set_random_seed(seed)

    def disc_cnn():
        return Sequential([
            Conv2D(32, 3, padding='same', strides=2, input_shape=(28, 28, 1)),
            LeakyReLU(.2),
            Dropout(.3),
            Conv2D(64, 3, padding='same', strides=1),
            LeakyReLU(.2),
            Dropout(.3),
            Conv2D(128, 3, padding='same', strides=2),
            LeakyReLU(.2),
            Dropout(.3),
            Conv2D(256, 3, padding='same', strides=1),
            LeakyReLU(.2),
            Dropout(.3),
            Flatten()
        ])

    def gen_cnn(latent_size=100):
        return Sequential([
            Dense(3 * 3 * 384, input_dim=latent_size, activation='relu'),
            Reshape((3, 3, 384)),
            Conv2DTranspose(192, 5, strides=1, padding='valid', activation='relu',
                            kernel_initializer='glorot_normal'),
            BatchNormalization(),
            Conv2DTranspose(96, 5, strides=2, padding='same', activation='relu',
                            kernel_initializer='glorot_normal'),
            BatchNormalization(),
            Conv2DTranspose(1, 5, strides=2, padding='same', activation='tanh',
                            kernel_initializer='glorot_normal')
        ])

    def build_discriminator(num_classes=10):
        image = Input(shape=(28, 28, 1))
        features = disc_cnn()(image)
        fake = Dense(1, activation='sigmoid', name='generation')(features)
        aux = Dense(num_classes, activation='softmax', name='auxiliary')(features)
        return Model(image, [fake, aux])

    adam_lr = 0.0002
    adam_beta_1 = 0.5

    discriminator = build_discriminator()
    discriminator.compile(
        optimizer=Adam(learning_rate=adam_lr, beta_1=adam_beta_1),  # the notebook: Adam(lr=...)
        loss=['binary_crossentropy', 'sparse_categorical_crossentropy']
    )

    def build_generator(latent_size=100, num_classes=10):
        latent = Input(shape=(latent_size, ))
        image_class = Input(shape=(1,), dtype='int32')
        cls = Flatten()(Embedding(num_classes, latent_size, embeddings_initializer='glorot_normal')(image_class))
        h = multiply([latent, cls])
        fake_image = gen_cnn()(h)
        return Model([latent, image_class], fake_image)

    generator = build_generator()

    latent_size = 100
    batch_size = 100
    num_classes = 10

    (x_train, y_train) = mnist_as_the_seeds_load_it()
    x_train = (x_train.astype(np.float32) - 127.5) / 127.5
    x_train = np.expand_dims(x_train, axis=-1)

    def gen_class_targets(idx, y_train, num_classes=10, batch_size=100):
        sampled_labels = np.random.randint(0, num_classes, batch_size)
        label_batch = y_train[idx * batch_size:(idx + 1) * batch_size]
        return np.concatenate((label_batch, sampled_labels), axis=0)

    def gen_img_pair(idx, x_train, sampled_labels, generator, batch_size=100, latent_size=100, num_classes=10):
        noise = np.random.uniform(-1, 1, (batch_size, latent_size))
        image_batch = x_train[idx * batch_size:(idx + 1) * batch_size]
        generated_images = generator.predict([noise, sampled_labels.reshape((-1, 1))], verbose=0)
        return np.concatenate((image_batch, generated_images))

    def gen_disc_data(idx, x_train, generator, num_classes=10, batch_size=100):
        sampled_labels = np.random.randint(0, num_classes, batch_size)
        x = gen_img_pair(idx, x_train, sampled_labels, generator)
        y = np.array([.95] * batch_size + [0] * batch_size)
        aux_y = gen_class_targets(idx, y_train)
        return x, y, aux_y

    def train_disc(idx, x_train, y_train, discriminator, generator):
        x, y, aux_y = gen_disc_data(idx, x_train, generator)
        disc_sample_weight = [np.ones(2 * batch_size),
                              np.concatenate((np.ones(batch_size) * 2, np.zeros(batch_size)))]
        discriminator.train_on_batch(x, [y, aux_y], sample_weight=disc_sample_weight)

    # Keras 3 fixes a model's trainable weights when its train function is made, so D's is made
    # here, while D is trainable, as Keras 2 had it made by compile().
    train_disc(0, x_train, y_train, discriminator, generator)

    latent = Input(shape=(latent_size, ))
    image_class = Input(shape=(1,), dtype='int32')
    fake_image = generator([latent, image_class])
    discriminator.trainable = False
    fake, aux = discriminator(fake_image)
    combined = Model([latent, image_class], [fake, aux])
    combined.compile(
        optimizer=Adam(learning_rate=adam_lr, beta_1=adam_beta_1),  # the notebook: Adam(lr=...)
        loss=['binary_crossentropy', 'sparse_categorical_crossentropy']
    )

    def train_gen(idx, x_train, y_train, discriminator, generator, num_classes=10, batch_size=100):
        noise = np.random.uniform(-1, 1, (2 * batch_size, latent_size))
        sampled_labels = np.random.randint(0, num_classes, 2 * batch_size)
        trick = np.ones(2 * batch_size) * .95
        combined.train_on_batch([noise, sampled_labels.reshape((-1, 1))], [trick, sampled_labels])

    first = {"done": False}

    def train(steps_from: int, steps_to: int) -> list:
        """The notebook's epoch loop (train_disc then train_gen per batch), counted in steps."""
        num_batches = int(x_train.shape[0] / batch_size)
        step = steps_from
        while step < steps_to:
            for idx in range(step % num_batches, num_batches):
                if first["done"] or step > 0 or idx > 0:
                    train_disc(idx, x_train, y_train, discriminator, generator)
                first["done"] = True  # batch 0's D update of the first step ran above
                train_gen(idx, x_train, y_train, discriminator, generator)
                step += 1
                if step >= steps_to:
                    break
        return []

    def sample(n: int, sample_seed: int):
        """n images in [-1, 1], as gen_pic draws them: noise U(-1, 1), labels cycling 0..9."""
        rng = np.random.RandomState(sample_seed)
        noise = rng.uniform(-1, 1, (n, latent_size))
        labels = (np.arange(n) % num_classes).reshape(-1, 1)
        return generator.predict([noise, labels], verbose=0, batch_size=500)

    combined.optimizer.build(combined.trainable_variables)  # its slots exist before a --state restore
    state = tf.train.Checkpoint(generator=generator, discriminator=discriminator,
                                d_opt=discriminator.optimizer, g_opt=combined.optimizer)
    return train, sample, state


# ------------------------------------------------------------------------------------------------
# Seed 000 in PyTorch: the lecture's train_step on gankit's port of its networks


def lecture_dcgan_torch(seed: int, alternate: bool = False, adam_eps: float = 1e-7):
    """The lecture's loop in plain fp32 PyTorch on ``DCGANGenerator``/``DCGANDiscriminator``: G's
    and D's gradients from the same forward pass, both applied after (the lecture's two tapes),
    Adam(1e-4) with Keras' epsilon, 60,000 images shuffled each epoch in batches of 256 (the last of
    96) against 256 fakes. ``alternate``: D is updated first and G's loss is taken through the updated
    D, as gankit's ``gan_step`` does. Separates what the networks do from what the engine does."""
    import numpy as np
    import torch
    import torch.nn.functional as F
    from gankit.models.dcgan import DCGANDiscriminator, DCGANGenerator

    torch.manual_seed(seed)
    x_all = torch.from_numpy(mnist_as_the_seeds_load_it()[0]).float().sub_(127.5).div_(127.5).unsqueeze(1)
    G, D = DCGANGenerator(100, (1, 28, 28), 64, 0.3), DCGANDiscriminator((1, 28, 28), 64, 0.3, 0.3)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=adam_eps)
    opt_d = torch.optim.Adam(D.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=adam_eps)
    gen = torch.Generator().manual_seed(seed + 1)

    def bce(logits, target):
        return F.binary_cross_entropy_with_logits(logits, torch.full_like(logits, target))

    def train_step(images):
        noise = torch.randn(256, 100, generator=gen)
        fake = G(noise)
        if alternate:  # gankit's gan_step: D first, then G through the updated D
            d_loss = bce(D(images), 1.0) + bce(D(fake.detach()), 0.0)
            opt_d.zero_grad(set_to_none=True)
            d_loss.backward()
            opt_d.step()
            g_loss = bce(D(fake), 1.0)
            opt_g.zero_grad(set_to_none=True)
            g_loss.backward()  # what this leaves in D's grads is cleared before D's next step
            opt_g.step()
            return float(g_loss), float(d_loss)
        real_output, fake_output = D(images), D(fake)  # the lecture: one forward, two tapes
        g_loss = bce(fake_output, 1.0)
        d_loss = bce(real_output, 1.0) + bce(fake_output, 0.0)
        g_grads = torch.autograd.grad(g_loss, list(G.parameters()), retain_graph=True)
        d_grads = torch.autograd.grad(d_loss, list(D.parameters()))
        for p_, g_ in zip(list(G.parameters()) + list(D.parameters()), g_grads + d_grads):
            p_.grad = g_
        opt_g.step()
        opt_d.step()
        return float(g_loss), float(d_loss)

    def train(steps_from: int, steps_to: int) -> list:
        G.train(), D.train()
        losses, step = [], steps_from
        while step < steps_to:
            perm = torch.randperm(len(x_all), generator=gen)
            for i in range(0, len(x_all), 256):
                losses.append(train_step(x_all[perm[i:i + 256]]))
                step += 1
                if step >= steps_to:
                    break
        return losses

    @torch.no_grad()
    def sample(n: int, sample_seed: int):
        G.eval()  # training=False
        g = torch.Generator().manual_seed(sample_seed)
        out = [G(torch.randn(min(500, n - i), 100, generator=g)) for i in range(0, n, 500)]
        return torch.cat(out).permute(0, 2, 3, 1).numpy().astype(np.float32)

    return train, sample, None


# ------------------------------------------------------------------------------------------------


def optimizers(state) -> list:
    """The optimisers a --state checkpoint holds, D's first."""
    names = ("discriminator_optimizer", "generator_optimizer", "d_opt", "g_opt")
    return [getattr(state, n) for n in names if hasattr(state, n)]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seed-doc", default="000", choices=("000", "002", "001"),
                   help="000/002: the lecture's DCGAN; 001: the notebook's AC-GAN")
    p.add_argument("--steps", type=int, required=True, help="training steps in all (D and G updates)")
    p.add_argument("--seed", type=int, default=0, help="seeds TensorFlow, NumPy and Python; and the judge")
    p.add_argument("-n", type=int, default=10000, help="samples for the judge")
    p.add_argument("--grid", help="save 64 samples as a grid PNG here (AC-GAN: 10 a row, one column a class)")
    p.add_argument("--state", help="folder keeping the networks and optimisers between invocations")
    p.add_argument("--no-eval", action="store_true", help="train (and save --state) only")
    p.add_argument("--threads", type=int, default=0, help="TensorFlow intra-op threads (0: its default)")
    p.add_argument("--torch-loop", choices=("simultaneous", "alternate"),
                   help="the lecture's loop in fp32 PyTorch on gankit's networks instead of TensorFlow: G and D "
                        "updated from one forward pass (the lecture's), or D first (gankit's gan_step)")
    p.add_argument("--adam-eps", type=float, default=1e-7, help="with --torch-loop: Adam's epsilon (Keras' 1e-7)")
    args = p.parse_args(argv)

    if args.torch_loop:
        if args.seed_doc == "001" or args.state:
            p.error("--torch-loop: the lecture's DCGAN (--seed-doc 000) only, without --state")
        tf = None
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        try:
            import tensorflow as tf
            import keras  # noqa: F401
        except ImportError:
            print(MISSING_TF, file=sys.stderr)
            return 2
        if args.threads:
            tf.config.threading.set_intra_op_parallelism_threads(args.threads)

    import numpy as np
    import torch

    done = 0
    state_file = Path(args.state) / "step.json" if args.state else None
    if state_file is not None and state_file.is_file():
        done = json.loads(state_file.read_text())["step"]
    if args.torch_loop:
        train, sample, state = lecture_dcgan_torch(args.seed, args.torch_loop == "alternate", args.adam_eps)
    else:
        build = notebook_acgan if args.seed_doc == "001" else lecture_dcgan
        train, sample, state = build((args.seed + 1_000_003 * done) % 2**32)  # NumPy seeds are 32-bit
    if done:
        state.restore(tf.train.latest_checkpoint(args.state)).assert_existing_objects_matched()

    t0 = time.perf_counter()
    losses = train(done, args.steps) if args.steps > done else []
    seconds = time.perf_counter() - t0
    if state_file is not None:
        state.save(os.path.join(args.state, "ckpt"))
        state_file.write_text(json.dumps({"step": max(done, args.steps)}))

    row = {"seed_doc": args.seed_doc, "steps": max(done, args.steps), "seed": args.seed,
           "steps_this_run": max(0, args.steps - done), "train_seconds": round(seconds, 1),
           "optimizer_steps": [int(o.iterations.numpy()) for o in optimizers(state)] if tf else None,
           "backend": f"torch {torch.__version__}, {args.torch_loop}, adam eps {args.adam_eps:g}"
           if args.torch_loop else f"tensorflow {tf.__version__}, keras {__import__('keras').__version__}"}
    if losses:
        g, d = np.mean([l[0] for l in losses[-100:]]), np.mean([l[1] for l in losses[-100:]])
        row.update(g_loss_last100=round(float(g), 4), d_loss_last100=round(float(d), 4))
    if args.grid:
        from gankit.sampling.grid import save_grid

        grid = torch.from_numpy(sample(64, args.seed + 1)).permute(0, 3, 1, 2)
        save_grid((grid.clamp(-1, 1) + 1) / 2, args.grid, nrow=10 if args.seed_doc == "001" else 8)
        row["grid"] = args.grid
    if not args.no_eval:
        import gankit

        x = torch.from_numpy(sample(args.n, args.seed)).permute(0, 3, 1, 2).float()  # (n, 1, 28, 28) in [-1, 1]
        res = gankit.evaluate(samples=x, data="mnist", n=args.n, seed=args.seed)
        m = res["metrics"]
        row.update(n=args.n, fid=round(m["fid"]["value"], 2), fid_floor=round(m["fid"]["floor"], 2),
                   classes_covered=m["classes_covered"]["value"])
        for k in ("classifier_score", "read_as_digit"):
            if k in m and m[k].get("value") is not None:
                row[k] = round(m[k]["value"], 4)
        if args.seed_doc == "001":  # sample() asks for the labels 0..9 in turn, as gen_pic does
            sys.path.insert(0, str(Path(__file__).resolve().parent))
            from quality import read_as_asked

            row["requested_class"] = round(read_as_asked(x, torch.arange(args.n) % 10, "mnist"), 4)
    print(json.dumps(row))
    return 0


if __name__ == "__main__":
    sys.exit(main())
