// mock: aiwire
// Text to speech: stream the audio body of the Response straight to a file with stream.pipeline.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import OpenAI from 'aiwire';

const client = new OpenAI();
const speechFile = path.join(os.tmpdir(), `aiwire-speech-${process.pid}.mp3`);

const response = await client.audio.speech.create({
  model: 'gpt-4o-mini-tts',
  voice: 'coral',
  input: 'Today is a wonderful day to build something people love!',
  instructions: 'Speak in a cheerful and positive tone.',
});

console.log(response.status, response.headers.get('content-type'));
if (!response.body) throw new Error('the speech response has no body');
await pipeline(Readable.fromWeb(response.body), fs.createWriteStream(speechFile));

const size = fs.statSync(speechFile).size;
const magic = fs.readFileSync(speechFile).subarray(0, 3).toString('latin1');
console.log(`wrote ${size} bytes to ${speechFile}`);
fs.rmSync(speechFile);

if (size === 0) throw new Error('empty audio file');
if (magic !== 'ID3') throw new Error(`not the mock's audio bytes: ${JSON.stringify(magic)}`);
